"""Precision: real-world lines that are no leak, and real leaks that must stay leaks.

The false positives come from scanning installed packages (botocore, moto, cfn-lint, pyparsing,
redis, pydantic, httpx, node docs...) and this repository; each is run through the full built-in
rule set at a realistic path. Every value here is fake.
"""

from __future__ import annotations

import pytest

from secretops.scan.engine import Scanner
from secretops.scan.models import Classification, Finding, Fragment
from secretops.scan.rules.loader import load_rules
from secretops.values import FingerprintKey

SCANNER = Scanner(load_rules(), FingerprintKey(b"p" * 32))


def _scan(line: str, path: str) -> list[Finding]:
    return SCANNER.scan(Fragment(line + "\n", path))


def _leaks(line: str, path: str) -> list[Finding]:
    return [f for f in _scan(line, path) if f.classification is Classification.LEAK]


# (line, path): seen as false alarms in the wild; none may be a leak.
NOT_LEAKS = [
    # pagination and idempotency tokens (botocore, moto)
    ('    "output_token": "EngineDefaults.Marker",', "botocore/data/rds/2014-10-31/paginators-1.json"),
    ('      "input_token": "NextPageToken",', "botocore/data/ce/2017-10-25/paginators-1.json"),
    ('    "input_token": "pagination_token",', "moto/cognitoidp/utils.py"),
    ('  "NextContinuationToken": "1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==",', "s3/examples-1.json"),
    ('  "ClientRequestToken": "a8ca07e4-61ec-4399-99f4-19853801bcd5",', "fsx/2018-03-01/examples-1.json"),
    ('  "ChangeToken": "abcd12f2-46da-4fdb-b8d5-fbd4c466928f",', "waf/2015-08-24/examples-1.json"),
    ('    "VerificationToken": "ILQMESfEW0p6i6gIJcEWvO65TP5hg6B99hGFZ2lxrIs=",', "moto/ses/models.py"),
    ('        self.update_token = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"', "moto/networkfirewall/models.py"),
    ('        {"jobTemplates": job_templates, "nextToken": future_next_token}', "moto/iot/responses.py"),
    # resource type names keyed to hashes (cfn-lint)
    ('    "AWS::EC2::IpamExternalResourceVerificationToken": "a388d8abe1219d0e",', "cfnlint/providers/us-east-1.json"),
    ('    "AWS::ApiGateway::ApiKey": "b899a0d240b53d9d",', "cfnlint/providers/us-east-1.json"),
    # type annotations, parameters, expressions
    ("def strip_html_tags(s: str, l: int, tokens: ParseResults):", "pyparsing/common.py"),
    ("    async def re_auth_callback(self, token: TokenInterface):", "redis/asyncio/cluster.py"),
    ("    def __init__(self, password: bytes):", "cryptography/hazmat/primitives/_serialization.py"),
    ("    passwd: HTTPPasswordMgr", "mypy/typeshed/stdlib/urllib/request.pyi"),
    ("        :type token: RequestToken", "s3transfer/bandwidth.py"),
    ("    private_key: x25519.X25519PrivateKey", "cryptography/hazmat/bindings/_rust/openssl/hpke.pyi"),
    ('    return ActionResult({"RequestTokenARN": operation.request_token_arn})', "moto/s3control/responses.py"),
    ("        {'X-Amz-S3session-Token': self.credentials.token}", "botocore/auth.py"),
    ("        sa_url = sa_url._replace(username=None, password=None)", "aws_xray_sdk/ext/sqlalchemy_core/patch.py"),
    ("            token = self._input.LA(1)", "sympy/parsing/latex/_antlr/latexparser.py"),
    ("        final_token = token[:-1]", "packaging/licenses/__init__.py"),
    ("        self.refresh_token = str(random.uuid4())", "moto/cognitoidp/models.py"),
    ("        if expectedTokenType==Token.EOF:", "antlr4/error/ErrorStrategy.py"),
    ("        token = uuid.uuid1().hex.encode()", "redis/lock.py"),
    ("const secret = process.env.WEBHOOK_SECRET!;", "server/lib/clients.ts"),
    ("        self.programs[program_name] = ins[self.MIN_TOKEN_INDEX: instruction_index]", "antlr4/rewriter.py"),
    # names that only contain a secret word
    ('    "secretops" = ["py.typed", "scan/rules/*.toml"]', "pyproject.toml"),
    ("secretops = secretops.cli.app:main", "secretops-0.1.0.dist-info/entry_points.txt"),
    ("detect-secrets = detect_secrets.main:main", "detect_secrets-1.5.0.dist-info/entry_points.txt"),
    ("    tokenizer: GenericTokenizer", "moto/ses/template.py"),
    ('        result = {"PasswordPolicy": account_password_policy}', "moto/iam/responses.py"),
    ('        return {"secretName": self.secret_name}', "moto/appmesh/models.py"),
    ('    "SecretId": "MyTestDatabaseSecret"', "botocore/data/secretsmanager/examples-1.json"),
    ('    TOKEN_DATA: "template data / text",', "jinja2/lexer.py"),
    ('    ExtensionOID.PRIVATE_KEY_USAGE_PERIOD: "privateKeyUsagePeriod",', "cryptography/hazmat/_oid.py"),
    ('    eos_token = "</s>"', "models/config.py"),
    # literal values that are names, words, prose or templates
    (
        '        resp = client.execute_statement(resourceArn="not applicable", secretArn="not applicable")',
        "moto/rds.py",
    ),
    ("    ACCESS_KEY = 'AWS_ACCESS_KEY_ID'", "botocore/credentials.py"),
    ("    SECRET_KEY = 'aws_secret_access_key'", "botocore/credentials.py"),
    ("    ACCESS_KEY = 'AWSAccessKeyId'", "botocore/credentials.py"),
    ("    SECRET_KEY = 'development key'", "flask/config.py"),
    ("    message: str = \"Invalid Token: 'Invalid token'\"", "moto/stepfunctions/parser/api.py"),
    ('  "CreationToken": "tokenstring",', "efs/2015-02-01/examples-1.json"),
    ('    "AWS_SECRET_ACCESS_KEY": "role-secret-key",', "moto/awslambda/models.py"),
    ('    "SecretKey": "ABCSECRETKEY",', "moto/cognitoidentity/models.py"),
    ('    "AWS_SECRET_ACCESS_KEY": "FOOBARSECRET",', "moto/core/models.py"),
    ('NOPASSWORD = "no-password-required"', "moto/elasticache/utils.py"),
    ('  "SecretString": "{JSON STRING WITH CREDENTIALS}"', "secretsmanager/examples-1.json"),
    ('  "LocalConsolePassword": "PassWordMustBeAtLeast6Chars."', "storagegateway/examples-1.json"),
    ("    \"secret = 'XYZ12345'\",", "betterleaks_py-2.0.0.dist-info/METADATA"),
    ("API_KEY = 'this-will-ordinarily-be-detected-by-a-plugin'    # pragma: allowlist secret", "README.md"),
    ('  passwd="anonymous@domain.org"', "socat/examples/ftp.sh"),
    ("pwd: 3.0-", "mypy/typeshed/stdlib/VERSIONS"),
    ("<code>{pem: &#x3C;string|buffer>[, passphrase: &#x3C;string>]}</code>. The object form", "nodejs/api/tls.html"),
    # value templates (this repository's own docs and benchmarks)
    ('    rd_tpl = "redis://{username}:{password|url}@127.0.0.1:6379/0"', "benchmarks/rotation/_common.py"),
    ("DATABASE_URL=postgresql://{username}:{password|url}@db:5432/app", "docs/rotation.md"),
    ("  url: postgresql://{username}:{password}@db/app", "docs/store.md"),
    ("      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}", "docker-compose.yml"),
    ("        ClientRequestToken='{self.client_request_token}'", "moto/cloudformation/models.py"),
    ('examples = ["Password: npg_EXAMPLEEXAMPLE"]', "docs/rules.md"),
    # prose in docstrings and markdown
    ("- `password`: `length` characters (default 32) drawn from the enabled classes", "secretops/rotate/gen.py"),
    ("a `.env` block (`DB_HOST=`, `DB_USER=`, `DB_PASSWORD=`), psql flags (`-h HOST -p PORT`", "secretops/scan/g.py"),
    ('    """The one account of an overlap/replace secret: `accounts[0]`, else the username."""', "issuers/c.py"),
    ("    --username and --password options instead of via the URL.", "pip/_internal/vcs/subversion.py"),
    ("    password: sekrit", "setuptools/_distutils/command/register.py"),
    # URLs with text or example credentials
    ("    https://jo%40email.com:a%20secret@m\u00fcller.de:1234/pa%20th?search=ab#anchorlink", "httpx/_urls.py"),
    ("    mhu = MultiHostUrl('https://foo.com:123,foo:bar@bar.com/path')", "pydantic/networks.py"),
    ("https://user:he%2F%2Fo@pypi.company.com/simple", "pip/html/topics/authentication.md"),
    (
        "[![codecov](https://codecov.io/gh/redis/redis-py/branch/master/graph/badge.svg?token=yenl5fzxxr)]"
        "(https://codecov.io/gh/redis/redis-py)",
        "redis-8.1.0.dist-info/METADATA",
    ),
    # a demo JWT with no claims, a textbook Basic header
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9.4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg",
        "python3-jwt/README.rst",
    ),
    ("grep -q '^Proxy-authorization: Basic dXNlcjpzM2NyM3QK$' out", "socat/examples/run.sh"),
]


@pytest.mark.parametrize(("line", "path"), NOT_LEAKS, ids=[f"{i}:{p}" for i, (_, p) in enumerate(NOT_LEAKS)])
def test_real_world_false_positives_are_no_leak(line: str, path: str) -> None:
    leaks = _leaks(line, path)
    assert not leaks, [(f.rule_id, f.reasons) for f in leaks]


# Word-based passwords in library code and docs: shown, but not as leaks.
WEAK_OR_EXAMPLE = [
    ('    credentials = {"username": "admin", "password": "P@55w0rd!"}', "moto/rds/models.py", "weak-default"),
    ("    model = Model(password='IAmSensitive')", "pydantic/types.py", "weak-default"),
    ("    passwd='geheim$parole')", "urllib/request.py", "weak-default"),
    ('  "Password": "pasword",', "botocore/data/dms/2016-01-01/examples-1.json", "placeholder"),
    ('  "KeyStorePassword": "kmsPswd",', "botocore/data/kms/2014-11-01/examples-1.json", "placeholder"),
    ('  "MasterUserPassword": "mynewpassword",', "botocore/data/rds/examples-1.json", "placeholder"),
    # guessable values in real config files are weak defaults (they fail `--fail-on medium`)
    ("JWT_SECRET=mysupersecretjwtkey", "deploy/.env", "weak-default"),
    ("ADMIN_PASSWORD=Welcome2024!", "deploy/.env", "weak-default"),
]


@pytest.mark.parametrize(("line", "path", "expected"), WEAK_OR_EXAMPLE)
def test_word_based_passwords_in_code_and_docs(line: str, path: str, expected: str) -> None:
    found = _scan(line, path)
    assert found, line
    assert {f.classification.value for f in found} == {expected}, [(f.rule_id, f.reasons) for f in found]


# (line, path, rule): real leaks in the formats people paste them in; each must stay a leak.
LEAKS = [
    ("DB_PASSWORD=Zq81vPr9Lk3w", "deploy/.env", "generic-password-assignment"),
    ('DB_PASSWORD="Zq81vPr9Lk3w"', "deploy/.env", "generic-password-assignment"),
    ("export MYSQL_PWD='Lm3kQ9vX2zTp'", "scripts/backup.sh", "generic-password-assignment"),
    ("    password: Hj4k9LmQ2zXv", "config/database.yml", "generic-password-assignment"),
    ('  "password": "Wq9vLx2mN8rT",', "config/app.json", "generic-password-assignment"),
    ('DB_PASSWORD = "Tr0ub4dor-Kq9z"', "app/settings.py", "generic-password-assignment"),
    ("const dbPassword = 'Kd93nVb7QaLp';", "src/db.js", "generic-password-assignment"),
    ('\tPassword: "Vq82kLmZ9xTw",', "internal/db/config.go", "generic-password-assignment"),
    ('    password := "Vq82kLmZ9xTw"', "cmd/main.go", "generic-password-assignment"),
    ("spring.datasource.password=Kq9vL2xW8mZp4T", "src/main/resources/application.properties", None),
    ("# DB_PASSWORD=Zq81vPr9Lk3wQ", "app/settings.py", "generic-password-assignment"),
    ("SECRET_KEY=Kq9vL2xW8mZp4TnR7bYc", "deploy/.env", None),
    ("client_secret: f83Kd92LqPz0vXw7", "config/oauth.yml", "generic-secret-assignment"),
    ('    "clientSecret": "f83Kd92LqPz0vXw7",', "config/oauth.json", "generic-secret-assignment"),
    ("API_TOKEN=vX93kLq2Pz8mWn4R", "deploy/.env", "generic-token-assignment"),
    ('GITLAB_TOKEN = "Zk2Lm9Qv8Xn3Wp4R"', "ci/release.py", None),
    ("export AUTH_TOKEN=Lq8vZ2kN9xWm4Pt7", "scripts/deploy.sh", "generic-token-assignment"),
    ("INTERAKT_API_KEY=Qv8kL2zXm9Wn4Pt7Rb", "deploy/.env", "generic-api-key-assignment"),
    ("  apiKey: 'Zx9Lm2Qv8Kn3Wp4R',", "src/config.ts", "generic-api-key-assignment"),
    ("PGPASSWORD=Vq82kLmZ9x psql -h db.internal -U app", "docs/runbook.md", "postgres-password-env"),
    ("mysql -h db.internal -u app --password=Kd93nVb7QaLp shop", "scripts/dump.sh", None),
    ("psql postgresql://app:Vq82kLmZ9xTw@db.internal:5432/app", "scripts/migrate.sh", "postgres-uri-password"),
    ("curl -u deploy:Kd93nVb7QaLpXz https://api.internal/v1/releases", "scripts/release.sh", None),
    ('curl -H "Authorization: Bearer Zk2Lm9Qv8Xn3Wp4RzT7b" https://api.internal/', "scripts/call.sh", None),
    ("Authorization: Basic anl1a3Fob3Y6TmpTeGZVRkhUTlZVSTdRaHZN", "notes/api.txt", "http-basic-auth-header"),
    ("REDIS_URL=rediss://default:Vq82kLmZ9xTwQp@cache.internal:6379/0", "deploy/.env", "redis-uri-password"),
    ("SECRET_KEY = 'RF9rtjH(_Jv^Zf3_s4pS2kCsx_iKudkJzgP*frTx*u#XT^&m-N'", "config/settings/production.py", None),
    ("      POSTGRES_PASSWORD: Lm3kQ9vX2zTp", "docker-compose.yml", "postgres-password-env"),
    ("config.api_key = 'Zx9Lm2Qv8Kn3Wp4R'", "config/initializers/client.rb", "generic-api-key-assignment"),
    ("  'password' => 'Lm3kQ9vX2zTp',", "config/database.php", "generic-password-assignment"),
    ("db.password=Lm3kQ9vX2zTp", "src/main/resources/app.properties", "generic-password-assignment"),
    ('  password = "Lm3kQ9vX2zTp"', "infra/main.tf", "generic-password-assignment"),
    ("ENV DB_PASSWORD=Lm3kQ9vX2zTp", "Dockerfile", "generic-password-assignment"),
    ('conn = psycopg.connect(password="Lm3kQ9vX2zTp")', "app/db.py", "generic-password-assignment"),
    ("let apiKey = `Kq9vL2xW8mZp4TnR7bYc`;", "src/client.js", "generic-api-key-assignment"),
    ("PASSWORD_DB=Kq9vL2xW8mZp4TnR7bYcQ", "deploy/.env", "generic-password-assignment"),
    ("DATABASE_PASSWORD: 'correct-horse-battery-staple'", "config/app.yml", "generic-password-assignment"),
    ("mysql -u root -pLm3kQ9vX2zTp shop", "scripts/backup.sh", None),
    ("redis-cli -a Lm3kQ9vX2zTp ping", "scripts/ops.sh", None),
]


@pytest.mark.parametrize(("line", "path", "rule"), LEAKS, ids=[f"{i}:{p}" for i, (_, p, _) in enumerate(LEAKS)])
def test_real_leaks_stay_leaks(line: str, path: str, rule: str | None) -> None:
    leaks = _leaks(line, path)
    assert leaks, [(f.rule_id, f.classification, f.reasons) for f in _scan(line, path)]
    if rule is not None:
        assert rule in {f.rule_id for f in leaks}
