"""pix2pix studio: image-to-image translation with conditional GANs (Isola et al. 2017)."""
