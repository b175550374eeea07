"""The papers' latency claims, and how a measurement compares with them.

A claim is only judged against figures from the same kind of machine; a desktop figure is never presented as
a device figure.
"""

from __future__ import annotations

from edgemef.models.family import Claim


def all_claims() -> tuple[Claim, ...]:
    """Every registered family's claims (from its info file)."""
    from edgemef.models.registry import list_families

    return tuple(claim for family in list_families() for claim in family.claims)


KIND_NAMES = {
    "desktop": "a desktop or server CPU",
    "raspberry-pi": "a Raspberry Pi",
    "android-device": "an Android phone",
    "android-emulator": "an Android emulator",
    "ios-device": "an iPhone or iPad",
    "ios-simulator": "the iOS simulator",
    "gpu": "a GPU",
}


def judge(
    claims: tuple[Claim, ...], family: str, machine_kind: str, measured_ms: float
) -> list[dict[str, object]]:
    """One verdict per claim: met / missed on the same kind of machine, else why it cannot be judged."""
    verdicts = []
    for claim in claims:
        if claim.family != family:
            verdict = f"not judged: this report profiles a {family} model, the claim is about {claim.family}"
            measured: float | None = None
        elif claim.device_kind != machine_kind:
            verdict = (
                f"not judged: measured on {KIND_NAMES.get(machine_kind, machine_kind)}, the claim is for "
                f"{KIND_NAMES.get(claim.device_kind, claim.device_kind)}; "
                f"the end-to-end figure here is {measured_ms:.0f} ms (for information only)"
            )
            measured = measured_ms
        else:
            met = measured_ms <= claim.claimed_ms
            verdict = (
                f"{'met' if met else 'missed'}: {measured_ms:.0f} ms vs {claim.claimed_ms:.0f} ms claimed"
            )
            measured = measured_ms
        verdicts.append(
            {
                "source": claim.source,
                "claim": claim.claim,
                "claimed_ms": claim.claimed_ms,
                "device_kind": claim.device_kind,
                "resolution": claim.resolution,
                "measured_ms": measured,
                "verdict": verdict,
            }
        )
    return verdicts
