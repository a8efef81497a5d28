"""OS::Heat::MultipartMime: a MIME multipart message of configs (a list of cloud-init
parts, say), stored as a software config. A part is inline text or the id of another
software config, whose config is used; a part of type ``multipart`` is itself a multipart
message, whose parts are added one by one. Any change replaces it."""

from __future__ import annotations

import email
import json
import os
import uuid
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

from ember.engine.resource import AttributeSchema
from ember.resources.software_config import SoftwareConfig
from ember.template import PropertySchema
from ember.template.constraints import AllowedValues

TEXT, MULTIPART = "text", "multipart"
# The message, kept so the attribute is the text stored (its boundary is random).
MESSAGE_KEY = "message"

PART_SCHEMA = {
    "config": PropertySchema(
        "string",
        "Content of part to attach, either inline or by referencing the ID of another "
        "software config resource.",
        required=True,
    ),
    "filename": PropertySchema("string", "Optional filename to associate with part."),
    "type": PropertySchema(
        "string",
        "Whether the part content is text or multipart.",
        default=TEXT,
        constraints=(AllowedValues(values=(TEXT, MULTIPART)),),
    ),
    "subtype": PropertySchema("string", "Optional subtype to specify with the type."),
}


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def text_part(content: str, subtype: str | None, filename: str | None) -> MIMEText:
    """One part; with no subtype, a filename's stem is the subtype (as Heat has it)."""
    if not subtype and filename:
        subtype = os.path.splitext(filename)[0]
    try:
        content.encode("us-ascii")
        charset = "us-ascii"
    except UnicodeEncodeError:
        charset = "utf-8"
    part = MIMEText(content, subtype, charset) if subtype else MIMEText(content, _charset=charset)
    if filename:
        part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def sub_parts(message: str) -> list[MIMEText]:
    """The parts of a multipart message (none when it is not one)."""
    parsed = email.message_from_string(message)
    if not parsed.is_multipart():
        return []
    out = []
    for part in parsed.get_payload():
        if isinstance(part, str):
            continue  # a multipart message's payload is its parts; text here is stray
        payload = part.get_payload()
        out.append(
            text_part(
                payload if isinstance(payload, str) else str(payload),
                part.get_content_subtype(),
                part.get_filename(),
            )
        )
    return out


class MultipartMime(SoftwareConfig):
    type_name = "OS::Heat::MultipartMime"
    description = (
        "Assembles a collection of software configurations as a multi-part mime message, "
        "from inline configuration or references to other config resources."
    )
    properties_schema = {
        "group": PropertySchema(
            "string",
            "Namespace to group this multi-part configs by when delivered to a server. This "
            "may imply what configuration tool is going to perform the configuration.",
            default="Heat::Ungrouped",
        ),
        "parts": PropertySchema(
            "list",
            "Parts belonging to this message.",
            default=[],
            schema=PropertySchema("map", schema=PART_SCHEMA),
        ),
    }
    attributes_schema = {
        "config": AttributeSchema("The config value of the software config.", "string")
    }

    async def _content(self, config: str) -> str:
        """A part's text: the config it names, when it names one."""
        if not _is_uuid(config):
            return config
        found = await self._services().software_config(self.ctx, config)
        if found is None:
            return config  # not a config after all: the text itself
        value = found.get("config")
        return value if isinstance(value, str) else json.dumps(value)

    async def message(self) -> str:
        parts: list[MIMEText] = []
        for item in self.ctx.properties.get("parts") or []:
            content = await self._content(str(item.get("config")))
            if (item.get("type") or TEXT) == MULTIPART:
                parts.extend(sub_parts(content))
            else:
                parts.append(text_part(content, item.get("subtype"), item.get("filename")))
        return MIMEMultipart(_subparts=parts).as_string()

    async def config_fields(self) -> dict[str, Any]:
        text = self.ctx.data.get(MESSAGE_KEY)
        if not text:
            # Kept before the config is stored: a create run again stores the same text.
            text = self.ctx.data[MESSAGE_KEY] = await self.message()
            await self.ctx.checkpoint()
        return {"group": self.ctx.properties.get("group"), "config": text}

    def attributes(self) -> dict[str, Any]:
        return {"config": self.ctx.data.get(MESSAGE_KEY)}
