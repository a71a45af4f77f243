"""``PromotionParameters``: the SSM parameters a promoted model is read from, with their initial values."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ..errors import Problems
from ._validation import check_model
from .specs import ModelSpec

DESCRIPTION = {
    "image": "Image of the promoted model version (promotion writes it; CloudFormation creates it)",
    "model_data": "Model data of the promoted model version (promotion writes it; CloudFormation creates it)",
}


class PromotionParameters(Construct):
    """One SSM ``String`` parameter per name of the ``models``' :class:`PromotedModel` specs, holding the
    model's ``image`` / ``model_data_url`` as its initial value. ``parameters`` maps names to them.

    Put them in a stack that deploys *before* the endpoints' stack (``add_dependency``): CloudFormation
    resolves a template parameter of type ``AWS::SSM::Parameter::Value<String>`` when it creates the
    change set, before any resource of that stack exists, and refuses a parameter that does not exist
    yet ("Systems Manager parameter types": "If a specified parameter doesn't exist in Parameter Store
    ... CloudFormation returns a validation error"). One created in the endpoints' own stack never works.

    Who writes the value: CloudFormation when it creates a parameter, and afterwards only when the
    parameter's properties in the template change, that is when a model's ``image`` or
    ``model_data_url`` itself changes (a new version put in the code or config on purpose: it wins and
    the next deploy of the endpoints' stack rolls it out). The ``AWS::SSM::Parameter`` update handler
    calls ``PutParameter`` only when properties other than ``Tags`` differ from the previous template
    (aws-cloudformation-resource-providers-ssm, ``aws-ssm-parameter`` ``UpdateHandler``), so a deploy that
    leaves them as they are, or only changes tags, keeps the promoted value. In between, promotions
    (``ApprovedModelDeployer``) write it. The description is fixed for the same reason.

    The parameters are deleted with the stack (not retained): a retained parameter would make a later
    stack that creates it again fail, since a parameter name can be created only once.
    """

    def __init__(self, scope: Construct, id: str, *, models: Sequence[ModelSpec]) -> None:
        super().__init__(scope, id)
        p = Problems(f"PromotionParameters {self.node.path}")
        values: dict[str, tuple[str, str]] = {}  # name -> (value, where)
        for i, model in enumerate(models):
            where = f"models[{i}]"
            if model.promoted is None:
                p.add(f"{where}.promoted", None, "a PromotedModel (the parameters to create)")
                continue
            check_model(p, where, model, multi_model=False, promotable=True)
            for kind, name, value in (
                ("image", model.promoted.image_parameter, model.image),
                ("model_data", model.promoted.model_data_parameter, model.model_data_url),
            ):
                if name is None or value is None:
                    continue
                earlier = values.get(name)
                p.check(
                    earlier is None or earlier[0] == value, f"{where}.{kind}", value,
                    f"the value {earlier[1]} gives parameter {name} too ({earlier[0]})" if earlier else "",
                )
                values.setdefault(name, (value, f"{where}.{kind}"))
        p.raise_if_any()

        self.parameters: dict[str, ssm.StringParameter] = {}
        for model in models:
            promoted = model.promoted
            for kind, name, value in (
                ("image", promoted.image_parameter, model.image),
                ("model_data", promoted.model_data_parameter, model.model_data_url),
            ):
                if name is None or value is None or name in self.parameters:
                    continue
                self.parameters[name] = ssm.StringParameter(
                    self, _construct_id(name),
                    parameter_name=name, string_value=value, description=DESCRIPTION[kind],
                    tier=ssm.ParameterTier.STANDARD,
                )


def _construct_id(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^a-zA-Z0-9]+", name) if part)
