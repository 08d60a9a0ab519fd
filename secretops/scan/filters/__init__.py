"""Classification of a candidate secret: leak, test-credential, placeholder or weak-default.

The engine calls `classify` for every regex hit, in this order, first answer wins:

1. not a credential at all (generic rules only): numbers, booleans, URLs, paths, prose, type
   names, variable references in code, names that describe metadata (`TOKEN_EXPIRE_MINUTES`).
   These produce no finding.
2. placeholder: templates (`<DB_PASSWORD>`, `${VAR}`, `{{ secrets.X }}`, `%(x)s`,
   `[YOUR-PASSWORD]`), instructions (`your-api-key-here`), masks (`xxxx`, `****`, `...`),
   words (`password`, `secret`), documented example keys, a value equal to its own name,
   repeated characters, textbook URIs (`user:password@host`), `REPLACE_ME`; template defaults
   (`change-me`) when the file is documentation or a template (`.md`, `.env.example`) or where a
   provider issues the value (`SENTRY_AUTH_TOKEN=changeme`, `issued_slot`); and off-format
   values: one slip off a strict provider format that the key name or the value's own prefix
   presents them as (`off_format_reason`, generic rules; `checksum_off_reason`, any rule).
3. live shape (`shape.live_shape`): a private key block, a provider prefix, a strongly random
   provider value, a password to a non-local host. Such a value is a leak wherever it is (a
   vendor test-mode marker such as `sk_test_` makes it a test credential, a `django-insecure-`
   key a weak default); the path never hides it.
4. test-credential, from the value and its surroundings only: CI service containers, test-ish
   values (`test_pass`, `dummy`, `fake`, `not-for-production`), trivial passwords to a local
   host or a service declared in the same file, a local host with a test database or user.
5. weak-default: template defaults outside docs where the owner picks the value
   (`SECRET_KEY=change-me`, `DB_PASSWORD=changeme`), `django-insecure-`
   keys, well-known default passwords (`admin`, `postgres`).
6. leak: anything else; the engine then applies the rule's entropy floor and checksum.

A test path only lowers a low-entropy leak or weak default with no live shape to severity and
confidence `low` (`Verdict.severity`). The decision table is in docs/rules.md. Each verdict
carries `reasons` in words a user can act on.

Where each part lives: `decision` (this order, `classify`), `not_credential` and `names` (1),
`placeholders` and `off_format` (2, `_STRICT_FORMATS` is the table of provider formats),
`testcreds` and `ci_services` (4), `weak_defaults` (5, and the template defaults of 2), `paths`
(test, documentation and code paths), `randomness` (entropy, generated-looking values) and
`interface` (`Verdict`). The names below are the package's public API.
"""

from secretops.scan.filters.ci_services import in_ci_service_block
from secretops.scan.filters.decision import classify
from secretops.scan.filters.interface import Verdict
from secretops.scan.filters.names import name_not_secret
from secretops.scan.filters.not_credential import not_a_credential
from secretops.scan.filters.paths import is_doc_or_template, is_test_path
from secretops.scan.filters.placeholders import decoded_placeholder_reason, placeholder_reason
from secretops.scan.filters.randomness import shannon_entropy
from secretops.scan.filters.testcreds import test_reason
from secretops.scan.filters.weak_defaults import weak_default_reason

__all__ = [
    "Verdict",
    "classify",
    "decoded_placeholder_reason",
    "in_ci_service_block",
    "is_doc_or_template",
    "is_test_path",
    "name_not_secret",
    "not_a_credential",
    "placeholder_reason",
    "shannon_entropy",
    "test_reason",
    "weak_default_reason",
]
