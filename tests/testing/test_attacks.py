import pytest
import torch

from lkadv import AttackSpec, Param
from lkadv.testing import ContractViolation, check_attack
from lkadv.testing._attacks import DEFAULT_EPS


def spec(fn, norms=("linf", "l2"), **kw):
    def factory(norm, **params):
        return lambda classifier, x, y, eps, generator: fn(x, eps, norm, generator, **params)

    kw.setdefault("backend", "tests")
    return AttackSpec(name="fake", norms=norms, factory=factory, **kw)


def corner(x, eps, norm, generator):
    """A correct random attack: a random corner of the ball, clipped (clipping only shrinks |delta|)."""
    noise = torch.randn(x.shape, generator=generator)
    delta = eps * noise.sign() if norm == "linf" else eps * noise / noise.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    return (x + delta).clamp(0, 1)


def test_native_pgd_and_a_correct_random_attack_pass(host):
    expected = {c: "ok" for c in ("attack.metadata", "attack.output", "attack.range", "attack.norm-bound")}
    expected["attack.determinism"] = "ok"
    assert check_attack(host.registries.attacks.get("pgd"), params={"steps": 3}) == expected
    assert check_attack(spec(corner)) == expected


@pytest.mark.parametrize(
    ("fn", "contract", "words"),
    [
        (lambda x, eps, norm, g: (x + 2 * eps).clamp(0, 1), "attack.norm-bound", "> eps"),
        # Right for linf, wrong for l2: eps per pixel is far more than eps in L2.
        (
            lambda x, eps, norm, g: (x + eps * torch.randn(x.shape, generator=g).sign()).clamp(0, 1),
            "attack.norm-bound",
            "||x_adv - x||_2",
        ),
        (lambda x, eps, norm, g: x + eps * torch.randn(x.shape, generator=g).sign(), "attack.range", "outside [0, 1]"),
        (
            lambda x, eps, norm, g: corner(x, eps, norm, torch.Generator().manual_seed(int(torch.randint(9, ())))),
            "attack.determinism",
            "global RNG",
        ),
        (lambda x, eps, norm, g: x.clamp_(0.1, 0.9), "attack.output", "in place"),
        (lambda x, eps, norm, g: x[:, :1], "attack.output", "returned shape"),
        (lambda x, eps, norm, g: x.double().fill_(float("nan")), "attack.output", "non-finite"),
    ],
    ids=["cheat", "linf-step-under-l2", "no-clip", "global-rng", "in-place", "shape", "nan"],
)
def test_broken_attacks_fail_the_contract_they_break(fn, contract, words):
    with pytest.raises(ContractViolation) as err:
        check_attack(spec(fn), contracts=[contract])
    assert str(err.value).startswith(contract + ": attack 'fake'")
    assert words in str(err.value)


def test_the_bound_is_checked_at_every_declared_radius():
    # Exceeds eps only for the largest linf radius: the grid must reach it.
    def sneaky(x, eps, norm, g):
        return corner(x, eps * (1.5 if eps > 0.2 else 1.0), norm, g)

    with pytest.raises(ContractViolation, match=rf"eps = {DEFAULT_EPS['linf'][-1]:.8g}"):
        check_attack(spec(sneaky, norms=("linf",)), contracts=["attack.norm-bound"])


def test_metadata_names_the_parameter():
    bad = spec(corner, params={"steps": Param(default="many", type="int")})
    with pytest.raises(ContractViolation, match=r"^attack\.metadata: .*params\.steps"):
        check_attack(bad, contracts=["attack.metadata"])


def test_a_plugin_attack_recorded_as_lkadv_is_flagged():
    bad = spec(corner, backend="lkadv")  # the default: this test module's attack would be credited to lkadv
    with pytest.raises(ContractViolation, match=r"^attack\.metadata: .*declares backend='lkadv'"):
        check_attack(bad, contracts=["attack.metadata"])
