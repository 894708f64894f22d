"""Common-English word lists for the capitalisation rules in :mod:`memman.rules.entities`.

Two disjoint classes of lowercase words, kept as plain strings and split on
first use:

* ``VERBISH``: words that never begin a proper name when they are capitalised
  only because they start a sentence: pronouns, determiners, conjunctions,
  prepositions, adverbs, modals, interjections, number words, question words
  and the verbs that start imperative notes ("Use", "Run", "Ask", "Always"...).
* ``NOUNISH``: common nouns and adjectives. Capitalised at the start of a
  sentence they count as a name only as part of a multi-word Title-Case name
  ("Billing Service", "New York", "Data Platform").

``NEVER_NAMES`` are capitalised words that are never entities (weekdays,
months, honorifics, chat shorthand); ``ACRONYM_STOP`` are all-caps tokens that
are shouting or chat shorthand rather than names ("TODO", "FYI", "OK").
"""
from functools import lru_cache

_VERBISH = """
about above absolutely according across actually add added adding adds after afterwards
again against ago ah aha ahead alas all allow almost alone along already also alternatively
although always am among amongst an and another any anybody anyhow anyone anything anyway
anyways anywhere apart apparently apply are around as ask asked asking assume at avoid
away back basically be became because become becomes been before beforehand begin behind
being below beneath beside besides best better between beyond both briefly bring build
but by call can cannot careful carefully certainly change check checked choose chose
clean clear click close come comes commit compare configure confirm consider
consequently could create currently dear definitely delete deploy deployed describe
despite did do does doing done don't down downgrade drop during each earlier easily edit
either else elsewhere enable ensure enter especially even eventually ever every
everybody everyone everything everywhere exactly except explain export fetch finally
find first firstly fix fixed follow following for forget format formerly forward found
four frequently from further furthermore generally get gets getting give given go goes
going gone good got great had hardly has have having he hello hence her here hereby
herein hers herself hey hi him himself his hmm hopefully how however i if ignore
immediately import importantly in include increase indeed initially inside install
instead into is it its itself just keep kept kill know last lately later latter least
leave less let lets let's like likely look made mainly make makes making many maybe me
meanwhile merge might mine more moreover most mostly move much must my myself namely
near nearly need needs neither never nevertheless next nine no nobody none nonetheless
nor normally not nothing now nowhere obviously of off often oh ok okay on once one only
onto open or originally other others otherwise ought our ours ourselves out outside over
overall own perhaps please plus prefer previously primarily probably pull push put
quickly quite rather read really recently reduce refactor remember remove rename
replace restart retry return review rewrite right run said same save say says second
secondly see seems seldom send set seven several shall she should show similarly
simply since six skip slowly so some somebody somehow someone something sometimes
somewhat somewhere soon specifically start still stop subsequently such suddenly sure
take tell ten than thank thanks that the their theirs them themselves then thence there
thereafter thereby therefore these they third this thorough thoroughly those though
three through throughout thus to today together tomorrow tonight too toward towards try
turn twice two typically ugh uh um under undo unfortunately unless unlike unlikely until
up update upgrade upon us use used uses using usually various verify very via want
was watch we well were what whatever when whenever where whereas wherever whether which
whichever while who whoever whole whom whose why will wish with within without wow
would write yeah yes yesterday yet you your yours yourself yourselves
accept achieve act adapt adjust admit adopt advise affect agree aim alert allocate alter
amend analyse analyze announce annotate answer appear append approve archive argue arrange
arrive assert assign attach attempt attend authenticate authorize automate bake balance ban
bear beat become beg believe belong benchmark bind blame block boot borrow bother bounce
break breathe broadcast browse bump buy calculate cancel capture care carry cast catch
cause center chain challenge charge chase chat cheat chmod chown cite claim clarify classify
clone code collaborate collect combine comment communicate compile complain complete comply
compose compress compute concat concentrate conclude connect consult consume contact contain
continue contribute control convert convince cook cope count cover crash crawl cross cry
cut dare deal debug decide declare decline decode decrease decrypt define delay delegate
deliver demand demonstrate deny depend deprecate derive design destroy detect determine
develop die dig disable disagree disappear discard disconnect discover discuss dismiss
display distribute dive divide document double doubt download drag draw dream dress drink
drive dump duplicate earn eat email embed emit employ empty encode encourage encrypt end
enforce engage enjoy enqueue escalate escape establish estimate evaluate evict examine
exceed exchange exclude execute exist exit expand expect experiment expire explore expose
extend extract fail fall fear feed feel fight fill filter finish fit flatten flip flush fly
focus fold forbid force fork forward free freeze gather generate grab grant grep grow guess
guarantee halt handle hang happen hash hate hear help hide highlight hire hit hold hope host
hurry identify imagine implement improve increment indent index inform inherit init
initialize inject insert insist inspect instantiate instruct integrate intend interact
interrupt introduce invalidate invent invest investigate invite invoke involve iterate join
judge jump justify kick kiss knock label land launch lay lead learn lend lie lift limit
link lint listen live load locate lock log login logout lose love maintain manage map mark
match matter mean measure meet mention migrate minimize mirror miss mock modify monitor
mount multiply name navigate negotiate nest note notice notify observe obtain occur offer
offload omit onboard operate optimize order organize output overwrite owe own pack page paint
parse participate pass paste patch pause pay perform permit persist pick pin ping pipe place
plan play plot point poll populate post pray precompute predict prepare present preserve
press pretend prevent print prioritize proceed process produce profile program promise
promote prompt propagate propose protect prove provide provision prune publish punish
purchase purge pursue qualify query queue quit raise reach react realize rebase reboot
rebuild recall receive recognize recommend reconcile record recover recreate redeploy
redirect refer reflect refresh refuse regenerate register reindex reject relate relax
release relink reload rely remain remind render renew reorder repair repeat report represent
reproduce request require rerun research reset resize resolve respond rest restore restrict
resume retain retire retrieve reuse reveal revert revoke ride ring rise roll rotate route
ruin rush sample satisfy scale scan schedule score scrape scroll search secure seed seek
select sell separate serve shape share shift ship shoot shout shrink shut sign simplify
sing sit sleep slice slide smell smile snapshot solve sort sound speak specify spend split
spread squash stage stand stare state stay steal step stick sting store strike strip
structure study submit subscribe succeed suffer suggest sum summarize supply support
suppose surprise surround survive suspect swap swear switch sync synchronize tag talk
target teach tear test thank think throttle throw tick tie time toggle touch trace track
trade train transfer transform translate travel treat trigger trim trust truncate tune
tweak type understand uninstall unlock unpack unpin unset untag unzip upload urge validate
value vanish vary vendor view visit vote wait wake walk wander warn wash waste wear weigh
welcome win wipe wonder work worry wrap yell yield zip
also alright anyway approximately hopefully instead maybe moreover much naturally notably
occasionally ok okay perhaps possibly presumably regardless roughly seemingly whereby
yep nope nah hey hooray oops sorry thanks welcome bye goodbye cheers congrats
"""

_NOUNISH = """
access account accounts accounting admin admins alert alerts alerting alpha answer
app application approach architecture area areas article asset assets audit
auth author automatic backend backup backups bad banking base basic batch beta big
billing black blue board body book booking border bottom box branch branches bug bugs
build builds bundle business button cache caches caching call calls card cards case
cases center central change changes channel channels chapter chat check checks chief
class classes clean client clients cloud cluster clusters code column columns command
commands comment comments commit commits common company complete complex component
components computing config configuration connection console container containers
content context contract control core cost count credential credentials critical
cron current customer customers daily dashboard data database databases date dates day
days dead default delivery demo dependency dependencies deploy deploys deployment
deployments dev developer developers development device digital direct directory disk
doc docs document documentation domain draft driver early east edge editor empty end
endpoint endpoints engine engineer engineers engineering enterprise entry env
environment error errors event events example examples external false fast feature
features feed field fields figure file files filter final finance flag flags flaky
flow folder form format frontend front full function functions funding gateway general
global goal goals gold good graph great green group groups guide hard head health heavy help
high history home host hosting hosts hot hour hours house housing hub idea ideas image
images incident incidents index infra infrastructure initial input insight instance
instances integration internal issue issues item items job jobs key keys lab lake
landing large latency latest layer lead legacy level library light limit line lines
link links list lists live load local lock log logs logging long loop low lower machine
machines main major manager manual map mapping marketing master max media meeting
meetings memory merge message messages messaging method methods metric metrics mid
migration migrations min minor mobile mode model models module modules money month
monthly months monitoring mount name names native network networking new news night
nightly node nodes north note notes number numbers object office old onboarding
open option options order org output owner owners package packages page pages paid
panel parking part parts partner path pattern patterns payment payments people
performance permission permissions person phase phone pipeline pipelines plan plans
platform plugin point policy policies pool port ports post power premium preview
price pricing primary prior priority private problem problems process product
production products prod profile program project projects proxy public query question
questions queue queues quick random rate raw ready real reason reasons record records
red refund refunds release releases remote report reports repo repository request requests required
research resource resources response result results review reviews risk role roles
root route routes routing row rows rule rules runner safe sales sample schema scope
screen script scripts search secret secrets section security server servers service
services session settings setup shared shipping short side simple single site size
slow small software solution source south spec special speed sprint staging
standard state status step steps storage store stream streaming string style support
system systems table tables task tasks team teams tech template term test tests text
theme ticket tickets time times token tokens tool tools top topic total tracking
trading traffic training trial true type types unit units upper user users value
values vendor version versions view web week weekly weeks west white window word words
work worker workers workflow world year years
"""

_NEVER_NAMES = """
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
fri sat sun january february march april may june july august september october november
december jan feb mar apr jun jul aug sep sept oct nov dec mr mrs ms dr prof sr jr st
etc ie eg vs lol haha thx ty np btw imo imho tbh fwiw afaik
"""

_ACRONYM_STOP = """
am pm ok id ids todo fixme xxx hack note nb tbd tba wip asap fyi eod eow eta imo imho
btw lol tldr faq aka na ps rip omg lgtm sgtm ack nack tl dr etc ie eg vs info warn
warning error debug fatal
"""


@lru_cache(maxsize=1)
def tables() -> tuple[frozenset, frozenset, frozenset, frozenset]:
    """(VERBISH, NOUNISH, NEVER_NAMES, ACRONYM_STOP) as frozensets, built once."""
    verbish = frozenset(_VERBISH.split())
    nounish = frozenset(_NOUNISH.split()) - verbish
    return verbish, nounish, frozenset(_NEVER_NAMES.split()), frozenset(_ACRONYM_STOP.split())
