"""manga-colorize: pix2pix for colorizing manga and anime line art, with and without color cues."""

__version__ = "0.1.0"
