"""Classes a script defines: subclasses of nn.Module, and plain classes that hold data.

A script's `class Net(nn.Module)` becomes a real subclass of nn.Module, so that torch
registers its layers and parameters, calls its hooks and names its calls as for any layer;
its one Python method, forward, hands the call back to the interpreter. A plain class's
objects are ScriptObjects: a dict of fields and nothing else. Attributes of both are only
ever the script's own (its fields, its class's names) or what values.py allows a module:
no path leads to __dict__, __class__ or any other name Python keeps for itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from explorer.lang import custom_functions, functions, values
from explorer.lang.errors import ScriptError
from explorer.lang.functions import BoundMethod, Scope, ScriptFunction
from explorer.lang.hints import did_you_mean
from explorer.lang.tables import MODULE_METHODS

if TYPE_CHECKING:
    from explorer.lang.interpreter import Interpreter

_FIELDS = "_script_fields"  # a script module's own attribute names, kept in its __dict__


@dataclass(eq=False)
class ScriptClass:
    """A class the script defined: its body's names (methods and class attributes)."""

    name: str
    base: ScriptClass | None = None
    namespace: dict[str, Any] = field(default_factory=dict)
    module_type: type[nn.Module] | None = None  # the real class, for subclasses of nn.Module
    # The class of its objects otherwise, named as the script named it, so that Python's
    # messages about them read as they would ("unsupported operand type(s): 'Point' and 'int'").
    object_type: type[ScriptObject] | None = None
    function_type: type | None = None  # the real autograd.Function, for one of those

    def __repr__(self) -> str:
        return f"<class '__main__.{self.name}'>"

    def lookup(self, name: str) -> Any:
        """name in this class or the classes it derives from; MISSING when none has it."""
        cls: ScriptClass | None = self
        while cls is not None:
            if name in cls.namespace:
                return cls.namespace[name]
            cls = cls.base
        return functions.MISSING

    def derives_from(self, other: ScriptClass) -> bool:
        cls: ScriptClass | None = self
        while cls is not None and cls is not other:
            cls = cls.base
        return cls is other


class ScriptObject:
    """An object of a plain class of the script: its fields, looked up by name. Each script
    class has a subclass of its own, of the same name (ScriptClass.object_type)."""

    __slots__ = ("__weakref__", "fields", "script_class")

    def __init__(self, script_class: ScriptClass) -> None:
        self.script_class = script_class
        self.fields: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<__main__.{self.script_class.name} object at {id(self):#x}>"


@dataclass(frozen=True)
class Super:
    """super() in a method: the classes after `start`, bound to `owner`."""

    start: ScriptClass
    owner: Any

    def __repr__(self) -> str:
        return f"<super: <class '{self.start.name}'>, <{self.start.name} object>>"


@dataclass(frozen=True)
class BaseInit:
    """super().__init__ past the script's classes: nn.Module's own, or object's."""

    owner: Any

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            base = "nn.Module" if isinstance(self.owner, nn.Module) else "object"
            raise ScriptError(f"{base}.__init__() takes no arguments", kind=TypeError)
        if isinstance(self.owner, nn.Module) and "_parameters" not in vars(self.owner):
            nn.Module.__init__(self.owner)


def script_class_of(value: Any) -> ScriptClass | None:
    """The script class an object was made from, if the script made it."""
    if isinstance(value, ScriptObject):
        return value.script_class
    if isinstance(value, nn.Module):
        return getattr(type(value), "_script_class", None)
    return None


# -- defining and making ------------------------------------------------------------------


def class_def(interpreter: Interpreter, statement: ast.ClassDef) -> None:
    from explorer.lang.assignment import bind_name  # it imports the expressions we use

    base, module_base = _base(interpreter, statement)
    autograd_function = module_base is torch.autograd.Function
    if autograd_function:
        module_base = None
    cls = ScriptClass(statement.name, base)
    cls.object_type = type(statement.name, (ScriptObject,), {"__slots__": ()})
    if module_base is not None:
        cls.module_type = type(
            statement.name,
            (module_base,),
            {"forward": _forward, "_script_class": cls, "__module__": "__main__",
             "__qualname__": statement.name},
        )  # fmt: skip
    scope = Scope(functions.inner_enclosing(interpreter), owner=cls, class_body=True)
    with functions.body_scope(interpreter, cls.namespace, scope):
        interpreter.block(statement.body)
    if autograd_function:
        cls.function_type = custom_functions.function_type(cls)
    bind_name(interpreter, statement.name, cls)


def _base(
    interpreter: Interpreter, statement: ast.ClassDef
) -> tuple[ScriptClass | None, type[nn.Module] | None]:
    if statement.decorator_list or statement.keywords:
        node = statement.decorator_list[0] if statement.decorator_list else statement.keywords[0]
        raise interpreter.locate(
            ScriptError("class decorators and metaclasses are not available in explorer scripts"),
            node,
        )
    if len(statement.bases) > 1:
        raise ScriptError("a class in explorer scripts has at most one base class")
    if not statement.bases:
        return None, None
    value = interpreter.evaluate(statement.bases[0])
    if isinstance(value, ScriptClass):
        return value, value.module_type
    if isinstance(value, values.Function) and value.target is nn.Module:
        return None, nn.Module
    if isinstance(value, values.Function) and value.target is torch.autograd.Function:
        return None, torch.autograd.Function  # type: ignore[return-value]
    raise interpreter.locate(
        ScriptError(
            "a class in explorer scripts derives from nn.Module, torch.autograd.Function or a "
            "class of the script",
            hint="class Net(nn.Module):",
        ),
        statement.bases[0],
    )


def _forward(self: nn.Module, *args: Any, **kwargs: Any) -> Any:
    """The forward of every script module: the script's own, run by the interpreter."""
    cls = type(self)._script_class  # type: ignore[attr-defined]
    method = cls.lookup("forward")
    if not isinstance(method, ScriptFunction):
        raise ScriptError(
            f"{cls.name} has no forward method", hint="def forward(self, x): in the class"
        )
    return method(self, *args, **kwargs)


def instantiate(interpreter: Interpreter, cls: ScriptClass, args: tuple, kwargs: dict) -> Any:
    """cls(*args, **kwargs): a new object, initialised by the class's __init__."""
    if cls.module_type is not None:
        made: Any = object.__new__(cls.module_type)
        object.__setattr__(made, _FIELDS, set())
    else:
        made = (cls.object_type or ScriptObject)(cls)
    init = cls.lookup("__init__")
    if isinstance(init, ScriptFunction):
        result = functions.call(interpreter, init, (made, *args), kwargs)
        if result is not None:
            raise ScriptError("__init__() should return None", kind=TypeError)
    elif args or kwargs:
        raise ScriptError(f"{cls.name}() takes no arguments", kind=TypeError)
    else:
        BaseInit(made)()
    if isinstance(made, nn.Module) and "_parameters" not in vars(made):
        raise ScriptError(
            f"{cls.name}.__init__ must call super().__init__()",
            hint="begin __init__ with super().__init__()",
        )
    return made


def interpreter_budget(cls: ScriptClass) -> Any:
    """The budget of the run that defined cls, through any of its methods."""
    for member in cls.namespace.values():
        if isinstance(member, ScriptFunction):
            interpreter = member.interpreter()
            if interpreter is not None:
                return interpreter.budget
    raise ScriptError(f"{cls.name} has no forward and backward to apply")


def super_of(interpreter: Interpreter, args: tuple) -> Super:
    """super() in a method, or super(Class, self)."""
    if len(args) == 2 and isinstance(args[0], ScriptClass):
        return Super(args[0], args[1])
    scope = interpreter.scope
    if args or scope is None or scope.owner is None or scope.function is None:
        raise ScriptError("super() works inside the methods of a class", hint="super().__init__()")
    return Super(scope.owner, scope.first)


# -- attributes ---------------------------------------------------------------------------


def get_attribute(value: Any, name: str) -> Any:
    """value.name for a script: its own classes and objects first, then values.py's."""
    if isinstance(value, ScriptObject):
        if name in value.fields:
            return value.fields[name]
        return _class_member(value.script_class, name, value)
    if isinstance(value, ScriptClass):
        if name == "apply" and value.function_type is not None:
            return custom_functions.Apply(value.function_type, interpreter_budget(value))
        member = value.lookup(name)
        if member is functions.MISSING:
            raise _no_attribute(value.name, name, value.namespace)
        return member
    if isinstance(value, Super):
        return _super_member(value, name)
    cls = script_class_of(value)
    if cls is not None:
        return _module_member(value, cls, name)
    if custom_functions.is_context(value):
        member = custom_functions.context_attribute(value, name)
        if member is not None:
            return member
    return values.get_attribute(value, name)


def _class_member(cls: ScriptClass, name: str, owner: Any) -> Any:
    member = cls.lookup(name)
    if member is functions.MISSING:
        known = [*getattr(owner, "fields", {}), *cls.namespace]
        raise _no_attribute(cls.name, name, known)
    if isinstance(member, ScriptFunction) and not member.static:
        return BoundMethod(member, owner)
    return member


def _module_member(module: nn.Module, cls: ScriptClass, name: str) -> Any:
    if "_parameters" not in vars(module):
        raise ScriptError(
            f"{cls.name} is not initialised yet",
            hint="begin __init__ with super().__init__()",
        )
    own = vars(module)
    if name in own[_FIELDS]:
        return own[name]
    for store in (module._parameters, module._buffers, module._modules):
        if name in store:
            return store[name]
    member = cls.lookup(name)
    if isinstance(member, ScriptFunction):
        return BoundMethod(member, module)
    if member is not functions.MISSING:
        return member
    return values.get_attribute(module, name)


def _super_member(value: Super, name: str) -> Any:
    base = value.start.base
    member = base.lookup(name) if base is not None else functions.MISSING
    if isinstance(member, ScriptFunction):
        return BoundMethod(member, value.owner)
    if member is not functions.MISSING:
        return member
    if name == "__init__":
        return BaseInit(value.owner)
    if isinstance(value.owner, nn.Module) and name in MODULE_METHODS:
        return values.Method(value.owner, name)
    raise ScriptError(f"super() has no attribute {name} in explorer scripts", kind=AttributeError)


def _no_attribute(owner: str, name: str, known: Any) -> ScriptError:
    return ScriptError(
        f"{owner} has no attribute {name}", hint=did_you_mean(name, known), kind=AttributeError
    )


def set_attribute(target: Any, name: str, value: Any) -> None:
    """target.name = value: a script's own objects and classes take any name of the script's;
    a module takes its layers, parameters and (a script module) fields of its own."""
    if isinstance(target, ScriptObject):
        target.fields[name] = value
    elif isinstance(target, ScriptClass):
        target.namespace[name] = value
    elif isinstance(target, nn.Module):
        _set_module_attribute(target, name, value)
    elif custom_functions.is_context(target):
        custom_functions.set_context_field(target, name, value)
    else:
        values.set_attribute(target, name, value)


def _set_module_attribute(module: nn.Module, name: str, value: Any) -> None:
    own = vars(module)
    registered = any(name in own.get(s, ()) for s in ("_parameters", "_buffers", "_modules"))
    if registered or isinstance(value, nn.Parameter | nn.Module):
        # torch registers layers and parameters (weight tying: dec.weight = emb.weight), and
        # says so in its own words when that cannot be done
        if script_class_of(module) is None and not registered:
            raise ScriptError(
                f"{type(module).__name__} has no layer or parameter {name} to replace"
            )
        try:
            setattr(module, name, value)
        except (AttributeError, TypeError, KeyError) as error:
            hint = "begin __init__ with super().__init__()" if "__init__" in str(error) else ""
            raise ScriptError(str(error).strip("'\""), hint=hint, kind=type(error)) from None
        return
    fields = own.get(_FIELDS)
    if fields is None or (name not in fields and (name in own or hasattr(type(module), name))):
        raise ScriptError(
            f"setting {type(module).__name__}.{name} is not available in explorer scripts"
        )
    object.__setattr__(module, name, value)
    fields.add(name)
