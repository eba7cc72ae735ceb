// Every response body is built here, field by field: a whitelist per resource, so
// a field added to a core type stays internal until it is added here on purpose.
import type { Balance } from '../core/money';
import type { Transaction } from '../core/transaction';
import type { User } from '../core/user';

export interface BalanceResource { currency: string; available: number }
export interface UserResource { id: string; email: string; name: string; createdAt: string; balances: BalanceResource[] }
export interface TransactionResource {
  id: string;
  type: string;
  status: string;
  userId: string;
  toUserId?: string;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}
export interface PageResource { data: TransactionResource[]; nextCursor: string | null }
export interface HealthResource { status: 'ok' | 'unavailable' }

export const balanceResource = (b: Balance): BalanceResource => ({ currency: b.currency, available: b.available });

export const userResource = (u: User): UserResource => ({
  id: u.id,
  email: u.email,
  name: u.name,
  createdAt: u.createdAt,
  balances: u.balances.map(balanceResource),
});

export const transactionResource = (tx: Transaction): TransactionResource => ({
  id: tx.id,
  type: tx.type,
  status: tx.status,
  userId: tx.userId,
  ...(tx.toUserId !== undefined && { toUserId: tx.toUserId }),
  amount: tx.amount,
  currency: tx.currency,
  metadata: { ...tx.metadata },
  createdAt: tx.createdAt,
  updatedAt: tx.updatedAt,
});

export const pageResource = (data: Transaction[], nextCursor: string | null): PageResource => ({
  data: data.map(transactionResource),
  nextCursor,
});

export const healthResource = (status: 'ok' | 'unavailable'): HealthResource => ({ status });
