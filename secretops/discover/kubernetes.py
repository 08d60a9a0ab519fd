"""Kubernetes manifests: `secretKeyRef` env vars, `envFrom` Secrets, and the Secrets themselves.

A container env var `valueFrom.secretKeyRef {name, key}` reads key `key` of Secret `name` (a
`kubernetes` target); `envFrom.secretRef` reads every key of it. The workload (Deployment,
StatefulSet, CronJob, ...) is the component to roll after a change.
https://kubernetes.io/docs/concepts/configuration/secret/
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from yaml.nodes import Node

from secretops.discover._common import compose_all, line_of, mapping, scalar, sequence
from secretops.discover.interface import (
    ComponentType,
    ComponentUse,
    Discovery,
    EnvUse,
    Evidence,
    SourceParser,
    TargetUse,
)

__all__ = ["KubernetesParser"]

_WORKLOADS: dict[str, ComponentType] = {
    "Deployment": "service",
    "StatefulSet": "service",
    "DaemonSet": "service",
    "Job": "job",
    "CronJob": "cron",
    "Pod": "service",
}


class KubernetesParser(SourceParser):
    """Reads YAML files holding Kubernetes objects (any name; recognised by `apiVersion` and `kind`)."""

    id: ClassVar[str] = "kubernetes"

    def matches(self, path: Path) -> bool:
        if path.suffix not in (".yml", ".yaml"):
            return False
        parts = {p.lower() for p in path.parts}
        return bool(parts & {"k8s", "kubernetes", "manifests", "deploy", "helm", "charts"})

    def parse(self, text: str, display: str, line_offset: int = 0) -> Discovery:
        found = Discovery(sources=[display])
        for doc in compose_all(text, display):
            root = mapping(doc)
            kind = scalar(root.get("kind"))
            if kind is None or "apiVersion" not in root:
                continue
            meta = mapping(root.get("metadata"))
            name = scalar(meta.get("name")) or kind.lower()
            namespace = scalar(meta.get("namespace")) or "default"
            if kind == "Secret":
                ev = Evidence(display, line_of(doc, line_offset), f"Secret {namespace}/{name}")
                found.targets.append(
                    TargetUse("kubernetes", ev, name=name, ids=(("namespace", namespace), ("secret", name)))
                )
                continue
            if kind not in _WORKLOADS:
                continue
            wev = Evidence(display, line_of(doc, line_offset), f"{kind} {name}")
            comp = f"{kind.lower()}/{name}"
            found.components.append(ComponentUse(comp, _WORKLOADS[kind], wev, "kubernetes", None))
            for container in _containers(root):
                self._container(container, comp, namespace, display, line_offset, found)
        return found

    def _container(self, node: Node, comp: str, namespace: str, display: str, offset: int, found: Discovery) -> None:
        body = mapping(node)
        for env in sequence(body.get("env")):
            entry = mapping(env)
            key = scalar(entry.get("name"))
            ref = mapping(mapping(entry.get("valueFrom")).get("secretKeyRef"))
            secret = scalar(ref.get("name"))
            data_key = scalar(ref.get("key"))
            if not key or not secret or not data_key:
                continue
            line = line_of(env, offset)
            found.targets.append(
                TargetUse(
                    "kubernetes",
                    Evidence(display, line, f"{comp} reads Secret {secret}"),
                    name=secret,
                    ids=(("namespace", namespace), ("secret", secret)),
                )
            )
            found.envs.append(
                EnvUse(
                    data_key,
                    Evidence(display, line, f"{comp}: {key} from secretKeyRef {secret}/{data_key}"),
                    platform="kubernetes",
                    target=secret,
                    component=comp,
                    level="component",
                    secret=True,
                )
            )
        for src in sequence(body.get("envFrom")):
            secret = scalar(mapping(mapping(src).get("secretRef")).get("name"))
            if secret:
                line = line_of(src, offset)
                found.targets.append(
                    TargetUse(
                        "kubernetes",
                        Evidence(display, line, f"{comp} reads every key of Secret {secret} (envFrom)"),
                        name=secret,
                        ids=(("namespace", namespace), ("secret", secret)),
                    )
                )


def _containers(root: dict[str, Node]) -> list[Node]:
    spec = mapping(root.get("spec"))
    template = mapping(spec.get("template"))
    if "jobTemplate" in spec:  # CronJob
        template = mapping(mapping(mapping(spec.get("jobTemplate")).get("spec")).get("template"))
    pod = mapping(template.get("spec")) if template else spec
    return [*sequence(pod.get("initContainers")), *sequence(pod.get("containers"))]
