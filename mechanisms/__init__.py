"""tokensim's models of token-incentive and governance mechanisms.

Each subpackage is one mechanism family; importing it registers its model. The registry below
maps model names to the module that registers them, so models are imported only when used.
"""
from .core.model import register_builtin

register_builtin("governance", "tokensim.mechanisms.governance.model")
register_builtin("labeling", "tokensim.mechanisms.labeling.model")
register_builtin("inflation", "tokensim.mechanisms.inflation.model")
