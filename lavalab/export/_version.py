"""The version every lavalab export writes and its readers accept (one for all formats;
re-exported as :data:`lavalab.export.EXPORT_VERSION`)."""

EXPORT_VERSION = 1
