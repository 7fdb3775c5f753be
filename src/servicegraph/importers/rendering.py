"""Files that must be rendered before they describe anything: Helm charts and their
templates, kustomizations.

An unrendered template is not the manifest it will become (``{{ .Values.replicas }}``
is no number of replicas), so reading it as one would import a guess. These checks
tell the user the command that renders the files instead.
"""

from __future__ import annotations

import re

from servicegraph.importers.common import SourceFile

_TEMPLATE = re.compile(r"\{\{-?\s*(\.|\$|include\b|template\b|if\b|range\b|with\b|"
                       r"define\b|end\b|toYaml\b|tpl\b|default\b|printf\b)")

#: File names kustomize reads as a kustomization.
KUSTOMIZATIONS = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


def base_name(name: str) -> str:
    """The last part of a file name as given (``/`` or ``\\`` separated)."""
    return re.split(r"[/\\]", name)[-1]


def helm_problem(file: SourceFile) -> str | None:
    """Why ``file`` cannot be read before ``helm template`` renders it, or None.

    >>> helm_problem(SourceFile("t/deploy.yaml", "replicas: {{ .Values.replicas }}"))[:40]
    'an unrendered Helm template ({{ ... }}):'
    >>> helm_problem(SourceFile("app.yaml", "kind: Service"))
    """
    if base_name(file.name) in ("Chart.yaml", "Chart.yml"):
        return ("a Helm chart: run `helm template RELEASE CHART` and import its output "
                "(`helm template web ./chart > web.yaml`)")
    if _TEMPLATE.search(file.text):
        return ("an unrendered Helm template ({{ ... }}): run `helm template RELEASE "
                "CHART` and import its output")
    return None


def kustomization_note(file: SourceFile) -> str | None:
    """The note for a kustomization, or None when ``file`` is not one.

    >>> kustomization_note(SourceFile("base/kustomization.yaml", ""))[:38]
    'base/kustomization.yaml: a kustomizati'
    """
    if base_name(file.name) not in KUSTOMIZATIONS:
        return None
    return (f"{file.name}: a kustomization, not read: run `kubectl kustomize DIR` and "
            "import its output (the manifests beside it were read as they are, without "
            "its patches, name prefixes, namespaces or generated ConfigMaps)")
