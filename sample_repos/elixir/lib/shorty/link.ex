defmodule Shorty.Link do
  @moduledoc """
  A short link: its code, the target URL and how often it was visited.
  """

  @enforce_keys [:code, :url]
  defstruct [:code, :url, visits: 0, created_at: nil, last_visit: nil]

  @typedoc "A stored short link."
  @type t :: %__MODULE__{
          code: String.t(),
          url: String.t(),
          visits: non_neg_integer,
          created_at: DateTime.t() | nil,
          last_visit: DateTime.t() | nil
        }

  @doc "Builds a link created now."
  @spec new(String.t(), String.t()) :: t
  def new(code, url) do
    %__MODULE__{code: code, url: url, created_at: DateTime.utc_now()}
  end

  @doc "Records one visit at `now`."
  @spec visit(t, DateTime.t()) :: t
  def visit(%__MODULE__{} = link, now \\ DateTime.utc_now()) do
    %{link | visits: link.visits + 1, last_visit: now}
  end

  @doc """
  Whether the link was not visited for `days` days.
  """
  def stale?(link, days, now \\ DateTime.utc_now())
  def stale?(%__MODULE__{last_visit: nil, created_at: created}, days, now), do: older?(created, days, now)
  def stale?(%__MODULE__{last_visit: last}, days, now), do: older?(last, days, now)

  defp older?(time, days, now), do: DateTime.diff(now, time, :day) >= days
end
