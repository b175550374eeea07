"""Building blocks shared by model families (torch): layers that more than one paper uses, written once."""
