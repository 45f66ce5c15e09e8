"""pix2pix studio's web demo: draw edges or paint a label map, a pix2pix generator paints the picture live."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # offline: gradio must not call home
