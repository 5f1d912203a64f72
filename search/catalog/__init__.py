"""The catalog: its schema and product text, product ids, safe image decoding, and the products table and photo
files a bundle carries."""
