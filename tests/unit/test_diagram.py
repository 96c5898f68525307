"""make diagram: every environment is drawn from the current synth."""

from __future__ import annotations

import html
from pathlib import Path

from scripts.diagram import construct_edges, edges, load, main, stage_stacks
from tests.helpers.apps import SynthesizedApp


def test_each_environment_is_drawn_as_svg_and_png(
    synthesized_app: SynthesizedApp, tmp_path: Path
) -> None:
    assert main(str(synthesized_app.outdir), str(tmp_path)) == 0
    for env in ("mlops-dev", "mlops-staging", "mlops-prod"):
        svg = html.unescape((tmp_path / f"{env}.svg").read_text(encoding="utf-8"))
        assert "<svg" in svg
        assert f"{env}-serving" in svg
        assert "SageMaker endpoint" in svg
        assert (tmp_path / f"{env}.png").read_bytes().startswith(b"\x89PNG")
        constructs = html.unescape((tmp_path / f"{env}-constructs.svg").read_text(encoding="utf-8"))
        assert "RealtimeEndpoint" in constructs
        assert "MLPipeline" in constructs
        assert (tmp_path / f"{env}-constructs.png").read_bytes().startswith(b"\x89PNG")


def test_data_paths_follow_references_and_literal_bucket_names(
    synthesized_app: SynthesizedApp,
) -> None:
    stacks = load(stage_stacks(synthesized_app.outdir)["mlops-prod"])
    drawn = edges(stacks)
    serving = "mlops-prod-serving"
    config = next(n for n in stacks[serving].shown if n.startswith("EndpointEndpointConfig"))
    # The capture destination names the Data stack's bucket literally (s3://<name>/...).
    capture = next(n for n in stacks["mlops-prod-data"].shown if n.startswith("DataCapture"))
    assert (f"{serving}.{config}", f"mlops-prod-data.{capture}") in drawn
    # Alarms notify the environment topic through a cross-stack output.
    topic = next(n for n in stacks["mlops-prod-data"].shown if n.startswith("AlarmTopic"))
    assert (f"{serving}.Alarms", f"mlops-prod-data.{topic}") in drawn


def test_the_construct_diagram_shows_the_loop_in_the_direction_data_and_events_flow(
    synthesized_app: SynthesizedApp,
) -> None:
    stacks = load(stage_stacks(synthesized_app.outdir)["mlops-staging"])
    flows = construct_edges(stacks)
    data, serving = "mlops-staging-data", "mlops-staging-serving"
    monitoring, training = "mlops-staging-monitoring", "mlops-staging-training"
    # capture -> drift -> alarm -> retrain -> registry -> approval forwarded to delivery
    assert flows[(f"{serving}/Endpoint", f"{data}/DataCapture")] == "writes"
    assert flows[(f"{data}/DataCapture", f"{monitoring}/Drift")] == "reads"
    assert "ALARM" in flows[(f"{monitoring}/Drift", f"{training}/Pipeline")]
    assert "registers" in flows[(f"{training}/Pipeline", f"{data}/ModelRegistry")]
    forwarded = [t for (s, t) in flows if s == f"{data}/ModelRegistry" and "event-bus" in t]
    assert forwarded == ["event bus arn:aws:events:eu-west-1:444444444444:event-bus/default"]
    # Reads point from the bucket to the reader, never the other way.
    assert (f"{monitoring}/Drift", f"{data}/DataCapture") not in flows
    # Alarms reach the environment's topic.
    assert flows[(f"{serving}/Endpoint", f"{data}/AlarmTopic")] == "alarms"
