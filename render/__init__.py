"""Pictures: counterexamples and state graphs drawn with Graphviz, and the HTML report."""
