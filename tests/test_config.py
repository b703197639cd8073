import argparse
import dataclasses
import json

import pytest

from colorize.config import TrainConfig, add_config_arguments, config_from_args, preset


def _parse(*argv):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return config_from_args(parser.parse_args(argv))


def test_defaults_are_the_papers():
    cfg = TrainConfig()
    assert (cfg.image_size, cfg.batch_size, cfg.epochs) == (256, 4, 30)
    assert (cfg.learning_rate, cfg.beta1, cfg.l1_weight) == (2e-4, 0.5, 100.0)
    assert (cfg.leaky_slope, cfg.init_stddev, cfg.dropout) == (0.2, 0.02, 0.5)
    assert cfg.jitter_size == 286


def test_presets_differ_only_in_the_cue():
    a, b = preset("A"), preset("B")
    assert (a.conditioning.name, b.conditioning.name) == ("A", "B")  # no cue / the blurred cue
    assert dataclasses.replace(a, experiment="B") == b


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().epochs = 3


def test_every_field_is_a_flag_of_the_same_name():
    cfg = _parse("--experiment", "B", "--image-size", "64", "--batch-size", "2", "--epochs", "3",
                 "--steps-per-epoch", "5", "--seed", "7", "--precision", "float32",
                 "--strategy", "one", "--data", "d", "--out", "o", "--no-jitter")
    assert (cfg.experiment, cfg.conditioning.name, cfg.image_size, cfg.batch_size) == ("B", "B", 64, 2)
    assert (cfg.epochs, cfg.steps_per_epoch, cfg.seed, cfg.precision) == (3, 5, 7, "float32")
    assert (cfg.strategy, cfg.data, cfg.out, cfg.jitter) == ("one", "d", "o", False)


def test_unset_flags_keep_the_preset():
    assert _parse("--experiment", "B") == preset("B")


def test_json_round_trip():
    cfg = preset("B", image_size=64, lr_decay_epochs=3)
    assert TrainConfig.from_json(cfg.to_json()) == cfg


def test_non_defaults_lists_only_changes():
    assert preset("A", epochs=2).non_defaults() == {"epochs": 2}


@pytest.mark.parametrize("bad", [{"image_size": 48}, {"image_size": 16}, {"precision": "fp8"},
                                 {"experiment": "Z"}, {"batch_size": 0},
                                 {"hint_free_share": 1.5}, {"hint_free_share": -0.1},
                                 {"hint_mean_strokes": 0.5}, {"hint_early_mean_strokes": 0.5}])
def test_invalid_values_are_refused(bad):
    with pytest.raises(ValueError):
        preset(bad.pop("experiment", "C"), **bad)


def test_experiment_c_stroke_count_flags():
    cfg = _parse("--experiment", "C", "--hint-free-share", "0.1", "--hint-mean-strokes", "16")
    assert (cfg.options["hint_free_share"], cfg.options["hint_mean_strokes"]) == (0.1, 16.0)
    assert (cfg.conditioning.strokes.p_none, cfg.conditioning.strokes.mean_count) == (0.1, 16.0)


def test_a_flag_out_of_range_is_a_one_line_error():
    from colorize.errors import ColorizeError

    with pytest.raises(ColorizeError, match="bad flags: hint_free_share must be in") as info:
        _parse("--experiment", "C", "--hint-free-share", "2")
    assert info.value.reason == "bad_value"
    with pytest.raises(ColorizeError, match="image_size must be a power of two") as info:
        _parse("--image-size", "33")
    assert info.value.reason == "bad_value"


def test_a_c_config_written_before_the_fill_existed_reads_as_c_without_it():
    """Issue #33 added C's fill channels: a run saved before has five input channels."""
    new = preset("C")
    assert new.options["hint_fill"] and new.conditioning.input_channels == 9
    assert new.options["hint_region_share"] == 0.75
    old = json.loads(new.to_json())
    del old["options"]["hint_fill"]
    legacy = TrainConfig.from_json(json.dumps(old))
    assert legacy.options["hint_fill"] is False and legacy.conditioning.input_channels == 5
    assert legacy.options["hint_region_share"] == 0.75  # saved: kept
    del old["options"]["hint_region_share"]  # a run before the strokes per region
    assert TrainConfig.from_json(json.dumps(old)).options["hint_region_share"] == 0.0
    flat = {k: v for k, v in json.loads(new.to_json()).items() if k != "options"}
    flat.update(hint_free_share=0.5)  # runs before `options` kept C's at the top level
    assert TrainConfig.from_json(json.dumps(flat)).options["hint_fill"] is False
    assert TrainConfig.from_json(new.to_json()) == new
    assert "hint_fill" not in TrainConfig.from_json(preset("A").to_json()).options


def test_the_test_mode_is_the_experiments_unless_given():
    """A and B keep the paper's random test mode; C, the artist's model, is deterministic (the
    same strokes give the same picture). A saved config keeps what its run did."""
    assert preset("A").test_mode == preset("B").test_mode == "pix2pix"
    c = preset("C")
    assert c.test_mode == "deterministic"
    assert c.replace(experiment="A").test_mode == "pix2pix"
    assert preset("C", test_mode="pix2pix").test_mode == "pix2pix"
    assert TrainConfig.from_json(preset("A").to_json()).replace(experiment="C").test_mode \
        == "deterministic"
    assert json.loads(c.to_json())["test_mode"] == "deterministic"  # resolved, not "auto"
