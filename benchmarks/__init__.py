"""Speed and memory benchmarks of the search engine and the index build (`python -m benchmarks.run`)."""
