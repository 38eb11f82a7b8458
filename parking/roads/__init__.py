"""Road import: OpenStreetMap extracts into the road graph, the graph file, and loading the site's roads."""
