"""The zero-config durability gate: is a text worth storing as a long-term memory?

:func:`gate` is the rule-based stand-in for the LLM extraction prompt's
durability judgement. It returns a short reason when the text is *not* a memory
and ``None`` when it should be kept:

* ``"greeting"`` / ``"thanks"`` / ``"acknowledgement"``: every clause is social
  ("hi", "thanks!", "ok sounds good", "perfect, thank you so much");
* ``"receipt"``: a report that something was just done or is now in some state,
  with nothing else in it ("done", "PR merged", "tests pass", "build succeeded ✅",
  "I just ran the build", "deployed to prod");
* ``"status chatter"``: in-progress talk ("working on it", "checking now",
  "let me look", "still running");
* ``"too short to be a memory"``: fewer than 3 word characters.

Precision beats recall: a wrongly rejected memory is lost knowledge, so the gate
is conservative by construction. The text is split into clauses (at ``. ! ? ; ,
:``, line breaks, "and", "then", "also", "&", "+"), and *every* clause must be social or
match a closed grammar of chatter built from small vocabularies (generic objects
such as "the build", "the PR", "it"; destinations such as "prod", "main";
tails such as "now", "again"). Any other word - a name, a path, a version, a
reason ("because"), a rule ("must", "before", "need") - makes the clause
unmatched and the text is kept. Texts over 30 words are always kept. As a second
route, a short text (<= 8 words) whose words all come from the chatter
vocabulary is rejected when :func:`memman.intake.quality.quality_warnings` also
flags it as a receipt or state snapshot; the advisory labels are never used
alone.

Stdlib only; the patterns are compiled on first use and are anchored
alternations of fixed words, so they stay linear on any input.
"""
import re
from functools import lru_cache

__all__ = ["gate", "MAX_GATED_WORDS"]

MAX_GATED_WORDS = 30
_MAX_CLAUSE_WORDS = 12
_MAX_BAG_WORDS = 8

_GREET = frozenset("""
hi hello hey heya hiya howdy yo greetings morning afternoon evening gm bye goodbye cya
ttyl goodnight night welcome back hallo hola
""".split())
_THANKS = frozenset("""
thanks thank thx ty tysm tyvm cheers appreciated appreciate grateful kudos thankyou
""".split())
_ACK = frozenset("""
ok okay okey k kk sure yes yep yeah yup ya aye alright allright right fine cool nice great
awesome perfect excellent wonderful amazing sweet neat lovely fantastic brilliant good
got gotcha understood noted ack acknowledged roger copy lgtm sgtm sounds looks look seems
fair enough makes sense agreed agree np problem worries haha lol hmm oh ah wow indeed
exactly absolutely totally definitely course true correct yay woohoo hooray bet word
no nope deal will do works
""".split())
_SOCIAL_FILLER = frozenset("""
so very really much a lot just all then now well too again and you u guys everyone folks
team there the this is it it's that that's to me i we as for your help please of will
do good great one again man mate buddy all y'all
""".split())
_LEAD = frozenset("""
ok okay so alright update status fyi and also well yes yep yeah good news great cool nice
heads up quick btw note ps oh anyway right sure perfect awesome
""".split())

_VERB_PAST = r"""done finished completed fixed deployed redeployed merged pushed force-pushed
shipped released ran reran re-ran restarted rebuilt built updated committed rebased reverted
tested retested checked rechecked verified confirmed validated triggered started applied
installed reinstalled upgraded cleaned resolved closed opened created submitted approved
landed published uploaded synced bumped tagged reviewed addressed handled sorted did made
got finalized wrapped kicked rolled""".split()
_STATE = r"""pass passes passed passing succeeded succeeds successful success green red failing
failed fails fail broken done finished complete completed fixed working works worked
running up down live deployed merged shipped released pushed ready good ok okay fine stable
back resolved closed approved landed building deploying pending queued started restarted
updated clean sorted over""".split()
_VERB_ING = r"""working looking checking investigating running rerunning re-running building
rebuilding deploying redeploying testing retesting fixing debugging trying retrying waiting
merging pushing reviewing updating restarting rebasing syncing installing upgrading cleaning
compiling releasing shipping migrating digging""".split()
_NOUN = r"""build builds test tests suite suites specs spec pipeline pipelines ci cd ci/cd job
jobs pr prs mr mrs pull request requests branch branches fix fixes hotfix change changes code
commit commits patch patches migration migrations deploy deploys deployment deployments
release releases server servers service services app site container containers image images
cluster pods pod ticket tickets issue issues task tasks bug bugs script scripts workflow
workflows check checks linter lint review update updates feature docs main master repo db
database cache run runs rerun stuff work thing things one version package packages
dependencies deps config tag item step part latest e2e unit integration smoke new rollout
rollback revert tests upgrade suite everything""".split()
_PRONOUN_OBJ = r"""it them that this everything things stuff all both""".split()
_DEST = r"""prod production staging stage dev development main master origin remote github
gitlab ci local locally cluster server servers repo branch qa test it them review
everything""".split()
_TAIL = r"""now again already finally successfully today tonight too locally then btw lol
ok okay fine great nice thanks yay woohoo cleanly green anyway here there""".split()
_TAIL_PHRASES = (r"just now", r"as well", r"for now", r"for today", r"this morning",
                 r"as expected", r"without errors", r"with no errors", r"all good",
                 r"thank you", r"on my end", r"on my side", r"no errors")
_ING_FIXED = (
    r"wip", r"brb", r"on it", r"one sec", r"one second", r"one moment", r"hold on",
    r"stand by", r"standing by", r"bear with me", r"in progress", r"on my way",
    r"(?:almost|nearly|about) (?:done|there|finished|ready)",
    r"give me (?:a|one) (?:sec|second|minute|min|moment)",
    r"(?:i'll|we'll|i will|we will|will|let me|let's|lemme|gonna|going to|about to)"
    r" (?:check|look|see|try|do|fix|test|run|deploy|merge|push|retry|investigate|dig)"
    r"(?: (?:it|that|this|them|into it|at it))?(?: (?:now|later|soon|tomorrow|again|asap))?",
    r"(?:i'll|we'll|i will|we will|will) do",
)


def _alt(words) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"


@lru_cache(maxsize=1)
def _patterns():
    det = r"(?:(?:the|my|our|your|a|an|this|that|these|those|all|all the|both|every|some)\s)?"
    noun = _alt(_NOUN)
    num = r"(?:#?\d+)"
    obj = (rf"(?:{_alt(_PRONOUN_OBJ)}|{det}{noun}(?:\s(?:{noun}|{num}))?(?:\s{num})?"
           rf"|{num})")
    dest = rf"(?:(?:to|into|onto|on|in|from|against|for|at)\s(?:the\s|my\s|our\s)?{_alt(_DEST)})"
    tail = rf"(?:\s(?:{_alt(_TAIL)}|{_alt(_TAIL_PHRASES)}|{dest}))*"
    subj = r"(?:(?:i|we|i've|we've|i have|we have|they|someone|that|this|it|which)\s)?"
    adv = r"(?:(?:just|finally|successfully|already|also|now|all|both|have|has|been)\s)*"
    past = _alt(_VERB_PAST)
    particle = r"(?:\s(?:up|out|off|back|down|over|through|in))?"
    receipt_actor = (rf"{subj}{adv}{past}{particle}(?:\s(?:of\s)?{obj})?{particle}"
                     rf"(?:\s{dest})?{tail}")
    aux = (r"(?:(?:is|are|was|were|has|have|has been|have been|got|all|now|finally|just"
           r"|successfully|still|already|both|are all|is all|seems|seem|looks|look)\s)*")
    state = _alt(_STATE)
    receipt_state = rf"(?:{obj}\s)?{aux}{state}(?:\s(?:again|now|up|out))?(?:\s{dest})?{tail}"
    ing = _alt(_VERB_ING)
    status_pre = (r"(?:(?:i'm|i am|we're|we are|im|still|currently|now|just|it's|it is"
                  r"|is|are|all)\s)*")
    status_ing = (rf"{status_pre}(?:{ing}(?:\s(?:on|into|at|for|with|through))?"
                  rf"(?:\s{obj})?(?:\s{dest})?|(?:{'|'.join(_ING_FIXED)})){tail}")
    return (
        re.compile(receipt_actor),
        re.compile(receipt_state),
        re.compile(status_ing),
        re.compile(r"[.!?;,:\n\r]+|\s(?:and|then|&|\+|also)\s"),
        re.compile(r"[^\w#'/\s-]+|(?<!\w)[-/']|[-/'](?!\w)"),
    )


@lru_cache(maxsize=1)
def _bag_vocab() -> frozenset:
    words = set(_GREET | _THANKS | _ACK | _SOCIAL_FILLER | _LEAD)
    for group in (_VERB_PAST, _STATE, _VERB_ING, _NOUN, _PRONOUN_OBJ, _DEST, _TAIL):
        words.update(group)
    for phrase in _TAIL_PHRASES:
        words.update(phrase.split())
    words.update("i we i've we've i'm im is are was were has have been the my our a an to into"
                 " on in at of from up out off back it its".split())
    return frozenset(words)


def _social(words: list[str]) -> str | None:
    kinds = set()
    for w in words:
        if w in _GREET:
            kinds.add("greeting")
        elif w in _THANKS:
            kinds.add("thanks")
        elif w in _ACK:
            kinds.add("acknowledgement")
        elif w not in _SOCIAL_FILLER:
            return None
    for kind in ("greeting", "thanks", "acknowledgement"):
        if kind in kinds:
            return kind
    return None


def _clause_reason(clause: str) -> str | None:
    words = clause.split()
    if len(words) > _MAX_CLAUSE_WORDS + 4:
        return None
    while words and words[0] in _LEAD and len(words) > 1:
        if _social(words) is not None:
            break
        words = words[1:]
    if not words:
        return ""
    if len(words) > _MAX_CLAUSE_WORDS:
        return None
    social = _social(words)
    if social:
        return social
    s = " ".join(words)
    actor, state, status, _, _ = _patterns()
    if status.fullmatch(s):
        return "status chatter"
    if actor.fullmatch(s) or state.fullmatch(s):
        return "receipt"
    if all(w in _LEAD for w in words):
        return ""
    return None


def _normalise(text: str) -> str:
    cleanup = _patterns()[4]
    return cleanup.sub(" ", text.lower().replace("\u2019", "'"))


def gate(text: str) -> str | None:
    """Why ``text`` is not worth storing as a memory, or ``None`` to keep it."""
    if text is None:
        return "too short to be a memory"
    stripped = text.strip()
    n_word_chars = sum(1 for _ in re.finditer(r"\w", stripped[:64]))
    if len(stripped.split(None, MAX_GATED_WORDS)) > MAX_GATED_WORDS or len(
            _normalise(stripped).split(None, MAX_GATED_WORDS)) > MAX_GATED_WORDS:
        return None
    splitter = _patterns()[3]
    reasons = []
    for raw in splitter.split(stripped.lower()):
        clause = " ".join(_normalise(raw).split())
        if not clause:
            continue
        reason = _clause_reason(clause)
        if reason is None:
            return _quality_route(stripped) if n_word_chars >= 3 else "too short to be a memory"
        if reason:
            reasons.append(reason)
    if reasons:
        for kind in ("receipt", "status chatter", "greeting", "thanks", "acknowledgement"):
            if kind in reasons:
                return kind
    if n_word_chars < 3:
        return "too short to be a memory"
    return None


def _quality_route(text: str) -> str | None:
    """Second opinion: chatter-only vocabulary *and* a receipt/state quality label."""
    words = _normalise(text).split()
    if not words or len(words) > _MAX_BAG_WORDS:
        return None
    vocab = _bag_vocab()
    if not all(w in vocab or w.lstrip("#").isdigit() for w in words):
        return None
    from memman.intake.quality import quality_warnings

    labels = set(quality_warnings(text))
    if labels & {"verification_receipt", "deployment_receipt"}:
        return "receipt"
    if "state_observation" in labels:
        return "status chatter"
    return None
