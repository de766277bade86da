"""Administration: instance settings, registrations, moderation, federation health."""
