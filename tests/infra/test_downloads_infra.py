"""Signed /downloads/ links on AWS (mediajet.aws.downloads) in the template: the secret that signs them, who
may read it, the route that reaches the API function without an authorizer, and what players need from
the output bucket."""

from __future__ import annotations

from typing import Any

from infra import names
from tests.infra.conftest import resources
from tests.infra.test_template import Functions, actions_on, logical_id, only, role_id, statements


def secret_id(template: dict[str, Any]) -> str:
    (lid,) = resources(template, "AWS::SecretsManager::Secret")
    return lid


def test_one_generated_secret_signs_the_links(template: dict[str, Any]) -> None:
    secret = template["Resources"][secret_id(template)]["Properties"]
    assert secret["GenerateSecretString"]["PasswordLength"] >= 32
    assert "SecretString" not in secret, "generated at deploy time, never in the template"


def test_the_api_and_the_webhook_sender_read_the_secret_and_know_where_links_point(
        template: dict[str, Any], functions: Functions) -> None:
    secret = secret_id(template)
    readers = {name for name, (_, fn) in functions.items() if actions_on(template, fn, secret)}
    assert readers == {names.API_FUNCTION, names.WEBHOOKS_FUNCTION}
    for name in readers:
        fn = functions[name][1]
        assert actions_on(template, fn, secret) == {"secretsmanager:GetSecretValue"}
        assert fn["Properties"]["Environment"]["Variables"][names.ENV_DOWNLOAD_SECRET] == {"Ref": secret}
    api_env = functions[names.API_FUNCTION][1]["Properties"]["Environment"]["Variables"]
    assert names.ENV_PUBLIC_URL not in api_env, "the API links to the host a request came to (no cycle)"
    public_url = functions[names.WEBHOOKS_FUNCTION][1]["Properties"]["Environment"]["Variables"][names.ENV_PUBLIC_URL]
    assert logical_id(template, "AWS::ApiGatewayV2::Api", "HttpApi") in str(public_url)


def test_the_api_reads_the_output_bucket_to_answer_and_presign(template: dict[str, Any], functions: Functions) -> None:
    api = functions[names.API_FUNCTION][1]
    output = logical_id(template, "AWS::S3::Bucket", "StorageOutput")
    assert {"s3:GetObject", "s3:ListBucket"} <= actions_on(template, api, output)
    assert not [s for s in statements(template, role_id(api)) if "secretsmanager:*" in str(s["Action"])]


def test_downloads_reach_the_api_function_without_an_authorizer(template: dict[str, Any],
                                                                 functions: Functions) -> None:
    """/downloads/… goes through the catch-all route like every path; the link's HMAC is its authorisation."""
    route = only(template, "AWS::ApiGatewayV2::Route")
    assert route["RouteKey"] == "$default" and route.get("AuthorizationType", "NONE") == "NONE"
    assert not resources(template, "AWS::ApiGatewayV2::Authorizer")
    integration = only(template, "AWS::ApiGatewayV2::Integration")
    assert integration["IntegrationUri"] == {"Fn::GetAtt": [functions[names.API_FUNCTION][0], "Arn"]}


def test_players_in_browsers_may_fetch_segments_from_the_output_bucket(template: dict[str, Any]) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    output = buckets[logical_id(template, "AWS::S3::Bucket", "StorageOutput")]["Properties"]
    (rule,) = output["CorsConfiguration"]["CorsRules"]
    assert set(rule["AllowedMethods"]) == {"GET", "HEAD"} and rule["AllowedOrigins"] == ["*"]
    assert "Range" in rule["AllowedHeaders"]
    others = [lid for lid, b in buckets.items() if "CorsConfiguration" in b["Properties"] and "StorageOutput" not in lid]
    assert not others, "only the output bucket is read by browsers"
    assert output["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True, "still private"
