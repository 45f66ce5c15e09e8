"""Label palettes that datasets already use: their class names and colours, so they are never re-learned.

A dataset prepared from one of these records the palette in dataset.json; the checkpoint carries it on to
the studio, whose swatches then paint exactly the colours the model was trained on.
"""

from __future__ import annotations

from pix2pix.data.labels import Palette

# CMP Facade Database (Tyleček and Šára, GCPR 2013), as packaged for pix2pix: the 12 classes in label-id
# order, painted with a jet-like colour map; colours measured as cluster centres over the train split.
CMP_FACADES = Palette(
    names=("background", "facade", "window", "door", "cornice", "sill", "balcony", "blind", "deco", "molding",
           "pillar", "shop"),
    colors=((0, 0, 222), (0, 48, 255), (0, 128, 255), (1, 207, 255), (32, 255, 224), (112, 254, 142),
            (192, 255, 63), (255, 240, 1), (255, 159, 0), (255, 80, 0), (254, 0, 0), (174, 0, 1)),
)

# Cityscapes' 19 evaluation classes in their official colours, with unlabelled pixels black (index 0).
CITYSCAPES = Palette(
    names=("unlabelled", "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
           "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle"),
    colors=((0, 0, 0), (128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
            (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152), (70, 130, 180),
            (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100), (0, 0, 230),
            (119, 11, 32)),
)

NAMED_PALETTES = {"facades": CMP_FACADES, "cityscapes": CITYSCAPES}
