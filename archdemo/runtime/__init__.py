"""What every model call runs inside: the GPU guard (ZeroGPU, inference mode, CPU fallback) and micro-batching."""
