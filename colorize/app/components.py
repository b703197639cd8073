"""The page's Gradio components that take uploads, with the page's caps checked from each file's
header before Gradio decodes it, and its refusals: one line in the page, the memory given back.

Gradio component instances are wrapped, never subclassed: a subclass makes Gradio write a .pyi
file beside the module that defines it."""

from __future__ import annotations

import gradio as gr

from colorize.app import uploads
from colorize.errors import ColorizeError


def refuse(err: ColorizeError) -> gr.Error:
    """The page's message for a refused request, which gives back what it took."""
    uploads.release_memory()
    return gr.Error(str(err), print_exception=False)


def guard(fn):
    """`fn` with its ColorizeError shown in the page."""
    def wrapped(*args):
        try:
            return fn(*args)
        except ColorizeError as err:
            raise refuse(err) from None
    return wrapped


def capped_image(what: str, **kwargs) -> gr.Image:
    """A gr.Image that gives the handler a file path (Gradio decodes nothing but the header,
    image_mode=None: no conversion) after the page's caps; `what` names it in errors."""
    image = gr.Image(type="filepath", image_mode=None, **kwargs)
    preprocess = image.preprocess

    def checked(payload):
        try:
            uploads.check_payload(payload, what, f"the {what}")
        except ColorizeError as err:
            raise refuse(err) from None
        return preprocess(payload)

    image.preprocess = checked
    return image


def capped_editor(**kwargs) -> gr.ImageEditor:
    """A gr.ImageEditor whose background and layers are checked against the caps before Gradio
    decodes them, and whose composite (never read) is not decoded."""
    editor = gr.ImageEditor(**kwargs)
    preprocess, convert = editor.preprocess, editor.convert_and_format_image

    def checked(payload):
        try:
            if payload is not None:
                blobs = editor.blob_storage.get(payload.id) if payload.id is not None else None
                files = blobs or payload
                uploads.check_payload(files.background, "sketch", "the editor's background")
                for layer in files.layers:
                    uploads.check_payload(layer, "hint layer", "the editor's hint layer")
                uploads.check_payload(files.composite, "sketch", "the editor's picture")
                if blobs:
                    blobs.composite = None
                else:
                    payload = payload.model_copy(update={"composite": None})
            return preprocess(payload)
        except ColorizeError as err:
            if payload is not None and payload.id is not None:
                editor.blob_storage.pop(payload.id, None)
            raise refuse(err) from None

    def converted(file, flatten_on_white=False):
        try:  # a file that passed its header check but does not decode: named, in one line
            return convert(file, flatten_on_white)
        except Exception as err:
            name = (uploads.upload_of(file, "the editor's image") or ("", "the editor's image"))[1]
            raise ColorizeError(f"{name}: not a readable image ({type(err).__name__})",
                                reason="undecodable") from None

    editor.preprocess, editor.convert_and_format_image = checked, converted
    return editor
