"""A small shop for the bulk operations and serializers tests; docs/bulk.rst shows its code."""
