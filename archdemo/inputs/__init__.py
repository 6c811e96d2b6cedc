"""Pure pre- and post-processing: images, words and characters as the models read them, and the answers' shapes.

Nothing here runs a model or imports gradio: numpy, Pillow and the tokenizers only.
"""
