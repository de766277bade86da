"""Posts: notes, comments (replies), likes, shares, visibility, mentions, hashtags."""
