"""A council's meeting: its agenda (the packet), attendance, minutes and decisions."""
