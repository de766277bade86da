"""Media: image processing and the storage backends that keep uploaded files."""
