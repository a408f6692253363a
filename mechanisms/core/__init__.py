"""The small framework every tokensim model uses: parameter schema, seeding, registry, cadCAD wiring.

Also here, imported on demand: :mod:`.contract` (the checks every model must pass) and
:mod:`.interop` (a model as plain cadCAD pieces, ``to_cadcad``).
"""
from .errors import DataFileError, ParameterError, SpecError, TokensimError
from .model import Metric, Model, StateVar, get_model, model_names, register, register_builtin
from .params import Param, Schema, require
from .seeding import BatchRNG, sample_generator
from .step import step

__all__ = [
    "BatchRNG", "DataFileError", "Metric", "Model", "Param", "ParameterError", "Schema", "SpecError", "StateVar",
    "TokensimError", "get_model", "model_names", "register", "register_builtin", "require", "sample_generator",
    "step",
]
