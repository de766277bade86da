"""ActivityPub as a library: vocabulary, signatures, fetching, inbox checks, delivery rules.

Knows nothing of the instance, its storage or its web framework; collaborators
(key lookup, storage, clocks) come in as arguments.
"""
