"""C's input pipeline with OpenCV's thread pool on and off, in one process: the same dataset, the
setting toggled between chunks of 100 batches (the order alternating each round, toggle.py), so
that the machine's drift falls on both alike. Prints images/s and the process's CPU ms per image
of each chunk, then the medians (docs/performance.md, "OpenCV serial"). Usage, in the folder
holding faces256: python cvthreads.py"""
import cv2
from toggle import toggle  # (this folder)

toggle({f"threads={n}": (lambda n=n: cv2.setNumThreads(n)) for n in (2, 0)})
