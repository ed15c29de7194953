"""Images as data: build, write, read and safely extract FROM scratch images.

Example:
    >>> from labkit import oci
    >>> img = oci.Image([[oci.Entry.file("hello", b"hi\\n")]], cmd=["/hello"])
    >>> img.image_id.startswith("sha256:")
    True
"""
from labkit.oci.build import build_cli
from labkit.oci.digest import (DEFAULT_PATH_ENV, EMPTY_LAYER_DIFF_ID, EPOCH_1970,
                               SCHEMA1_EMPTY_GZIP_DIGEST, SCRATCH_LAYER_ID)
from labkit.oci.extract import Extracted, extract
from labkit.oci.gzipped import EMPTY_GZIP_BUILDKIT, EMPTY_GZIP_SCHEMA1, gzip_bytes, gzip_header
from labkit.oci.image import Image
from labkit.oci.reader import ImageInfo, LayerInfo, TarEntry, inspect
from labkit.oci.tarfields import header_fields, tar_fields
from labkit.oci.tarlayer import Entry, layer_tar, one_file_layer_size, tar_headers

__all__ = [
    "DEFAULT_PATH_ENV", "EMPTY_GZIP_BUILDKIT", "EMPTY_GZIP_SCHEMA1", "EMPTY_LAYER_DIFF_ID", "EPOCH_1970",
    "SCHEMA1_EMPTY_GZIP_DIGEST", "SCRATCH_LAYER_ID", "Entry", "Extracted", "Image", "ImageInfo",
    "LayerInfo", "TarEntry", "build_cli", "extract", "gzip_bytes", "gzip_header", "inspect",
    "header_fields", "layer_tar", "one_file_layer_size", "tar_fields", "tar_headers",
]
