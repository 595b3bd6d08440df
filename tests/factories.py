"""factory-boy factories for Bookbag's models."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from reviews.models import Assignment, Queue, QueueMembership, Review, ReviewItem
from rubrics.models import Criterion, Rubric


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "review-pass-123")

    @factory.post_generation
    def save_password(user, create, extracted, **kwargs):
        if create:
            user.save()


class ManagerFactory(UserFactory):
    @factory.post_generation
    def grant_manage(user, create, extracted, **kwargs):
        if create:
            user.user_permissions.add(Permission.objects.get(codename="manage_workspace"))


class RubricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rubric

    name = factory.Sequence(lambda n: f"Helpfulness {n}")
    slug = factory.Sequence(lambda n: f"helpfulness-{n}")
    guidelines = "Judge whether the reply answers the question correctly and politely."


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    rubric = factory.SubFactory(RubricFactory)
    key = factory.Sequence(lambda n: f"criterion_{n}")
    label = "Correct"
    kind = Criterion.Kind.PASS_FAIL


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Support replies {n}")
    slug = factory.Sequence(lambda n: f"support-{n}")
    rubric = factory.SubFactory(RubricFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QueueMembership

    queue = factory.SubFactory(QueueFactory)
    user = factory.SubFactory(UserFactory)
    role = QueueMembership.Role.REVIEWER


class ReviewItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewItem

    queue = factory.SubFactory(QueueFactory)
    source = "tests"
    external_id = factory.Sequence(lambda n: f"item-{n}")
    conversation = factory.LazyFunction(lambda: [{"role": "user", "content": "The WAN light blinks amber."}])
    response = factory.LazyFunction(lambda: {"role": "assistant", "content": "Your router is broken; buy a new one."})
    model = "test-model"
    content_hash = factory.Sequence(lambda n: f"{n:064x}")


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    item = factory.SubFactory(ReviewItemFactory)
    queue = factory.SelfAttribute("item.queue")
    reviewer = factory.SubFactory(UserFactory)
    claimed_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda a: a.claimed_at + datetime.timedelta(minutes=30))


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    item = factory.SubFactory(ReviewItemFactory)
    reviewer = factory.SubFactory(UserFactory)
    rubric = factory.SelfAttribute("item.queue.rubric")
    verdict = Review.Verdict.APPROVED
    submitted_at = factory.LazyFunction(timezone.now)


# Items in every state, counted per state, for tests of progress counts.
ITEMS_PER_STATE = {
    ReviewItem.State.PENDING: 3,
    ReviewItem.State.IN_REVIEW: 2,
    ReviewItem.State.ADJUDICATION: 1,
    ReviewItem.State.REVIEWED: 4,
    ReviewItem.State.DONE: 2,
}


def items_in_every_state(queue) -> None:
    """Create ``ITEMS_PER_STATE`` items in ``queue``."""
    for state, count in ITEMS_PER_STATE.items():
        ReviewItemFactory.create_batch(count, queue=queue, state=state)
