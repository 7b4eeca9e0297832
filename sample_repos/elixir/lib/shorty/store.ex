defmodule Shorty.Store do
  @moduledoc """
  Keeps links in an ETS table owned by a GenServer; reads go to ETS directly.
  """
  use GenServer

  alias Shorty.Link

  @table :shorty_links

  @doc "Starts the store and creates its table."
  def start_link(opts \\ []) do
    GenServer.start_link(__MODULE__, opts, name: __MODULE__)
  end

  @doc "Looks up a link by code without going through the server."
  @spec get(String.t()) :: Link.t() | nil
  def get(code) do
    case :ets.lookup(@table, code) do
      [{^code, link}] -> link
      [] -> nil
    end
  end

  @doc "Stores `link`; fails if its code is taken."
  def put(%Link{} = link), do: GenServer.call(__MODULE__, {:put, link})

  @doc "Counts a visit of `link` and saves it."
  def touch(%Link{} = link), do: GenServer.call(__MODULE__, {:touch, link.code})

  @doc "A fresh numeric id for the next code."
  def next_id, do: :ets.update_counter(@table, :__counter__, 1, {:__counter__, 0})

  @doc "Deletes every link not visited for `days` days, returns how many went."
  def purge_stale(days), do: GenServer.call(__MODULE__, {:purge, days})

  @impl true
  def init(_opts) do
    :ets.new(@table, [:named_table, :set, :protected, read_concurrency: true])
    {:ok, %{}}
  end

  @impl true
  def handle_call({:put, link}, _from, state) do
    if :ets.insert_new(@table, {link.code, link}) do
      {:reply, {:ok, link}, state}
    else
      {:reply, {:error, :taken}, state}
    end
  end

  def handle_call({:touch, code}, _from, state) do
    case get(code) do
      nil ->
        {:reply, nil, state}

      link ->
        visited = Link.visit(link)
        :ets.insert(@table, {code, visited})
        {:reply, visited, state}
    end
  end

  def handle_call({:purge, days}, _from, state) do
    stale = for {code, %Link{} = link} <- :ets.tab2list(@table), Link.stale?(link, days), do: code
    Enum.each(stale, &:ets.delete(@table, &1))
    {:reply, length(stale), state}
  end
end
