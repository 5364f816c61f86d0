"""People and progress (blueprint `admin`).

* /admin/users: everyone's role, batches and login lock. Seniors and admins unlock
  accounts; admins add users, change roles and assign batches (as `users` does).
* /admin/progress: per reviewer and per batch, open items, items done, time per
  item and items open now (seniors and admins).
* /admin/audit: the audit log (admins).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from review import audit, queries, throttle, users
from review.access import admin_required, senior_required
from review.store import store
from store.models import Batch, Role, User

bp = Blueprint('admin', __name__, url_prefix='/admin')


def _user_or_404(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _done(message: str):
    flash(message, 'ok')
    return redirect(url_for('admin.people'))


@bp.route('/users')
@senior_required
def people():
    with store().session() as s:
        everyone = s.scalars(select(User).where(User.password_hash.is_not(None)).order_by(User.name)).all()
        batches = s.execute(select(Batch.id, Batch.name).order_by(Batch.name)).all()
        assigned = {u.id: users.assigned_batches(s, u.id) for u in everyone}
        locks = throttle.locked_accounts(s)
        known = {u.name.casefold() for u in everyone}
        rows = [{'user': u, 'batches': assigned[u.id], 'locked': locks.get(u.name.casefold())} for u in everyone]
        others = [lock for key, lock in sorted(locks.items()) if key not in known]
    return render_template('users.html', rows=rows, batches=batches, roles=Role.ALL, other_locks=others,
                           admin=users.is_admin(current_user))


@bp.route('/unlock', methods=['POST'])
@senior_required
def unlock():
    name = (request.form.get('name') or '').strip()[:200]
    with store().session(write=True) as s:
        was = throttle.unlock(s, name)
        audit.record(s, audit.UNLOCK, user_id=current_user.id, name=current_user.name,
                     address=request.remote_addr, detail=f'unlocked {name}' + ('' if was else ' (was not locked)'))
    return _done(f'{name}: unlocked' if was else f'{name} was not locked')


@bp.route('/users', methods=['POST'])
@admin_required
def add():
    name, role = (request.form.get('name') or '').strip(), request.form.get('role') or Role.REVIEWER
    try:
        with store().session(write=True) as s:
            users.add_user(s, name, request.form.get('password') or '', role)
            audit.record(s, audit.ROLE, user_id=current_user.id, name=current_user.name,
                         address=request.remote_addr, detail=f'added {name} as {role}')
    except users.UserError as err:
        flash(str(err), 'error')
        return redirect(url_for('admin.people'))
    return _done(f'{name} added ({role})')


@bp.route('/users/<int:user_id>/role', methods=['POST'])
@admin_required
def role(user_id: int):
    new = request.form.get('role') or ''
    try:
        with store().session(write=True) as s:
            user = _user_or_404(s, user_id)
            users.set_role(s, user.name, new)
            audit.record(s, audit.ROLE, user_id=current_user.id, name=current_user.name,
                         address=request.remote_addr, detail=f'{user.name} is {new}')
            name = user.name
    except users.UserError as err:
        flash(str(err), 'error')
        return redirect(url_for('admin.people'))
    return _done(f'{name} is {new} now')


@bp.route('/users/<int:user_id>/batches', methods=['POST'])
@admin_required
def assign(user_id: int):
    batch_id = request.form.get('batch') or ''
    give = request.form.get('do') != 'unassign'
    with store().session(write=True) as s:
        user = _user_or_404(s, user_id)
        batch = s.get(Batch, int(batch_id)) if batch_id.isdigit() else None
        if batch is None:
            abort(404)
        changed = (users.assign if give else users.unassign)(s, user.name, batch.name)
        audit.record(s, audit.ASSIGN if give else audit.UNASSIGN, user_id=current_user.id,
                     name=current_user.name, address=request.remote_addr, detail=f'{batch.name} to {user.name}')
        what = (f'{batch.name} assigned to {user.name}' if give else f'{batch.name} taken from {user.name}')
    return _done(what if changed else 'nothing to change')


@bp.route('/progress')
@senior_required
def progress():
    with store().session() as s:
        people = queries.reviewer_progress(s)
        batches = queries.batch_progress(s)
    return render_template('progress.html', people=people, batches=batches)


@bp.route('/audit')
@admin_required
def audit_log():
    with store().session() as s:
        events = audit.recent(s)
        names = dict(s.execute(select(User.id, User.name)).all())
    return render_template('audit.html', events=events, names=names)
