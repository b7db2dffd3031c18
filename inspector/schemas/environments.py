"""Where shell commands run: a shell tool's `environment` and a shell_call's, and their skills.

Newer than the seeds (the openai SDK's FunctionShellTool and ResponseFunctionShellToolCall):
`container_auto` (a container the API makes), `local` (the caller's own machine) and
`container_reference` (a container made earlier with /v1/containers). A container or a local
environment can carry skills: one made with /v1/skills (`skill_reference`), one sent inline
as a base64 zip (`inline`), or, locally, a folder on the caller's machine (no `type`).
"""

from typing import TYPE_CHECKING, Literal

from .base import Schema, Unknown, tagged_union, type_names


class UnknownEnvironment(Unknown):
    pass


class UnknownSkill(Unknown):
    pass


class SkillReference(Schema):
    type: Literal["skill_reference"]
    skill_id: str = ""
    # A positive integer or "latest"; the skill's default version when absent.
    version: str | None = None


class InlineSkillSource(Schema):
    type: str = "base64"
    media_type: str | None = None
    data: str = ""


class InlineSkill(Schema):
    type: Literal["inline"]
    name: str = ""
    description: str | None = None
    source: InlineSkillSource | None = None


class LocalSkill(Schema):
    name: str = ""
    description: str | None = None
    path: str = ""


if TYPE_CHECKING:
    Skill = Schema
else:
    Skill = tagged_union([SkillReference, InlineSkill], UnknownSkill)


class DomainSecret(Schema):
    # `value` is a secret the container may send to `domain`: masked on every page.
    domain: str = ""
    name: str = ""
    value: str | None = None


class NetworkPolicy(Schema):
    type: str = "disabled"
    allowed_domains: list[str] = []
    domain_secrets: list[DomainSecret] | None = None


class ContainerAutoEnvironment(Schema):
    type: Literal["container_auto"]
    file_ids: list[str] | None = None
    memory_limit: str | None = None
    network_policy: NetworkPolicy | None = None
    skills: list[Skill] | None = None


class LocalEnvironment(Schema):
    type: Literal["local"]
    skills: list[LocalSkill] | None = None


class ContainerReferenceEnvironment(Schema):
    type: Literal["container_reference"]
    container_id: str = ""


ENVIRONMENT_CLASSES: list[type[Schema]] = [
    ContainerAutoEnvironment,
    LocalEnvironment,
    ContainerReferenceEnvironment,
]
ENVIRONMENT_TYPES = type_names(ENVIRONMENT_CLASSES)
if TYPE_CHECKING:
    Environment = Schema
else:
    Environment = tagged_union(ENVIRONMENT_CLASSES, UnknownEnvironment)
