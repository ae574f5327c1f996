"""Data sets: FER2013 csv and image folders, FER+ votes, splits, cache. Imports torch nowhere."""

from emolens.data.cache import load_dataset
from emolens.data.dataset import SPLITS, FaceDataset, available_splits
from emolens.data.fer2013 import read_fer2013_csv, read_image_folders
from emolens.data.ferplus import read_ferplus_votes, votes_to_labels
from emolens.data.loading import LabelOptions, ReadOptions, attach_ferplus, default_cache_dir, load_data

__all__ = [
    "SPLITS",
    "FaceDataset",
    "LabelOptions",
    "ReadOptions",
    "attach_ferplus",
    "available_splits",
    "default_cache_dir",
    "load_data",
    "load_dataset",
    "read_fer2013_csv",
    "read_ferplus_votes",
    "read_image_folders",
    "votes_to_labels",
]
