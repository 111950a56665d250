"""One assets module per stage of the data's path: deliveries → standardised records → links →
residents → published registry."""
