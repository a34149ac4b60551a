"""Articles in, searchable index out: reading, cleaning, sentences, chunks, embeddings, storage.

Knows nothing about questions; nothing here imports from the rest of Byline.
"""
