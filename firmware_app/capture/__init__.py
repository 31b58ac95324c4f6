"""Where frames enter the device: cameras and image files, all delivering RGB ``Frame`` values."""
