"""Content parts and annotations (spec §3.2, §4.3)."""

from typing import TYPE_CHECKING, Literal

from .base import Schema, Unknown, tagged_union, type_names


class UnknownAnnotation(Unknown):
    pass


class FileCitation(Schema):
    type: Literal["file_citation"]
    file_id: str | None = None
    filename: str | None = None
    index: int | None = None


class UrlCitation(Schema):
    type: Literal["url_citation"]
    url: str = ""
    title: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class ContainerFileCitation(Schema):
    type: Literal["container_file_citation"]
    container_id: str | None = None
    file_id: str | None = None
    filename: str | None = None
    start_index: int | None = None
    end_index: int | None = None


class FilePath(Schema):
    type: Literal["file_path"]
    file_id: str | None = None
    index: int | None = None


ANNOTATION_CLASSES: list[type[Schema]] = [
    FileCitation,
    UrlCitation,
    ContainerFileCitation,
    FilePath,
]
ANNOTATION_TYPES = type_names(ANNOTATION_CLASSES)
if TYPE_CHECKING:
    Annotation = Schema
else:
    Annotation = tagged_union(ANNOTATION_CLASSES, UnknownAnnotation)


class TopLogprob(Schema):
    token: str = ""
    bytes: list[int] | None = None
    logprob: float = 0.0


class Logprob(Schema):
    token: str = ""
    bytes: list[int] | None = None
    logprob: float = 0.0
    top_logprobs: list[TopLogprob] = []


class UnknownPart(Unknown):
    pass


class InputTextPart(Schema):
    type: Literal["input_text"]
    text: str = ""


class InputImagePart(Schema):
    type: Literal["input_image"]
    detail: str | None = None
    file_id: str | None = None
    image_url: str | None = None


class InputFilePart(Schema):
    type: Literal["input_file"]
    file_id: str | None = None
    file_url: str | None = None
    filename: str | None = None
    file_data: str | None = None


class InputAudio(Schema):
    data: str = ""
    format: str | None = None


class InputAudioPart(Schema):
    # Base64 audio bytes (mp3 or wav), newer than the seeds.
    type: Literal["input_audio"]
    input_audio: InputAudio | None = None


class OutputTextPart(Schema):
    type: Literal["output_text"]
    text: str = ""
    annotations: list[Annotation] = []
    logprobs: list[Logprob] | None = None


class RefusalPart(Schema):
    type: Literal["refusal"]
    refusal: str = ""


class SummaryTextPart(Schema):
    type: Literal["summary_text"]
    text: str = ""


class ReasoningTextPart(Schema):
    type: Literal["reasoning_text"]
    text: str = ""


class ComputerScreenshotPart(Schema):
    type: Literal["computer_screenshot"]
    file_id: str | None = None
    image_url: str | None = None


PART_CLASSES: list[type[Schema]] = [
    InputTextPart,
    InputImagePart,
    InputFilePart,
    OutputTextPart,
    RefusalPart,
    SummaryTextPart,
    ReasoningTextPart,
    ComputerScreenshotPart,
    InputAudioPart,
]
PART_TYPES = type_names(PART_CLASSES)
if TYPE_CHECKING:
    ContentPart = Schema
else:
    ContentPart = tagged_union(PART_CLASSES, UnknownPart)
