"""The script language: a safe subset of Python for building autograd graphs."""
