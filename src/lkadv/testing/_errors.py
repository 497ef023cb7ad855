"""What a failed or impossible conformance check raises."""

from __future__ import annotations

from lkadv.errors import LkadvError

__all__ = ["ContractSkipped", "ContractViolation"]


class ContractViolation(LkadvError, AssertionError):  # noqa: N818 - a violation, not an error of the kit
    """A plugin's object broke a contract.

    The message starts with the contract's name (``model.eval-mode: ...``) and
    goes on with the spec and the value that broke it. It is an
    :class:`AssertionError` too, so a failed check reads as a failed test.

    Args:
        contract: Name of the broken contract (a key of :data:`CONTRACTS`).
        detail: What broke it, with the offending value.

    Attributes:
        contract: Name of the broken contract.
        detail: What broke it.
    """

    def __init__(self, contract: str, detail: str) -> None:
        super().__init__(f"{contract}: {detail}")
        self.contract = contract
        self.detail = detail


class ContractSkipped(Exception):  # noqa: N818 - a skip, not an error
    """A check could not run here (no labelled data for the model's label space...).

    Args:
        contract: Name of the contract that was not checked.
        reason: Why, and what would let it run.
    """

    def __init__(self, contract: str, reason: str) -> None:
        super().__init__(f"{contract}: not checked: {reason}")
        self.contract = contract
        self.reason = reason
