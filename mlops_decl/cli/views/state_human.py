"""State rendered for people: one resource block, and the outputs."""

from __future__ import annotations

from typing import Any

from mlops_decl.cli.views.plan_human import fmt_value


def render_resource(rs: Any) -> str:
    status = getattr(rs, "status", None)  # Terraform: `# aws_instance.x: (tainted)`
    head = f"# {rs.address}:" + (f" ({status})" if status else "")
    lines = [head, f'resource "{rs.kind}" "{rs.address.split(".", 1)[1]}" {{']
    items = [("id", rs.id), *sorted(rs.attributes.items())]
    width = max(len(k) for k, _ in items)
    hidden = set(getattr(rs, "sensitive_paths", ()) or ())
    lines += [
        f"    {k.ljust(width)} = {'(sensitive value)' if k in hidden else fmt_value(v)}"
        for k, v in items
        if v is not None
    ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_outputs(outputs: dict[str, dict[str, Any]]) -> str:
    return "".join(
        f"{name} = {'(sensitive value)' if o.get('sensitive') else fmt_value(o.get('value'))}\n"
        for name, o in sorted(outputs.items())
    )
