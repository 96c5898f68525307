"""The public constructs and the value types they share.

The exported names are listed once, in ``__init__.pyi`` beside this file (type checkers read it);
at run time each construct's folder loads on first use, so importing this package is cheap.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
