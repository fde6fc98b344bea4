"""Bills and recurring bills that apps submit for the organisations using them."""
