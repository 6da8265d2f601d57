"""Settings of the tools: the CLI client, Flower and the web UI."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings


class Tools(BaseSettings):
    """Tools: CLI client, Flower, web UI."""

    api_url: str = Field(
        default="http://127.0.0.1:8000", description="where `syncq sync` and `syncq jobs` send requests"
    )
    api_token: str = Field(
        default="",
        validation_alias=AliasChoices("api_token", "SYNCQ_TOKEN"),
        description="the admin token `syncq sync` and `syncq jobs` use",
    )
    flower_user: str = Field(
        default="",
        validation_alias=AliasChoices("flower_user", "FLOWER_USER"),
        description="Flower's basic auth user (`syncq flower` refuses to start without it)",
    )
    flower_password: str = Field(
        default="",
        validation_alias=AliasChoices("flower_password", "FLOWER_PASSWORD"),
        description="Flower's basic auth password",
    )
    flower_url: str = Field(
        default="",
        description="Flower's address as operators' browsers reach it: the web UI's jobs page links each job there "
        "(`syncq standalone` sets it)",
    )
