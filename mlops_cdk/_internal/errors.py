"""The one exception type the library raises for bad input."""


class ConfigurationError(ValueError):
    """A construct or configuration value is invalid.

    The message starts with where the value came from (a construct path such as
    ``prod/Serving/Churn``, an option class such as ``ServerlessConfig`` or a config file such
    as ``config/prod.yaml``), then names the keyword, what is allowed and what was given.
    """
