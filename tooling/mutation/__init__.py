"""Mutation testing: plant realistic bugs one at a time and check that the tests catch them."""
